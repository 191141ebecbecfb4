import type { ReactNode } from "react";

/** The bar above every full page: the name, linking home, then what the page adds. */
export function SiteHeader({ children }: { children?: ReactNode }) {
  return (
    <header className="flex flex-wrap items-center gap-3">
      <h1 className="text-xl font-bold tracking-tight">
        <a href="/" className="hover:underline">
          Sandpit
        </a>
      </h1>
      {children}
    </header>
  );
}
