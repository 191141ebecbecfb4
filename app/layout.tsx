import type { Metadata, Viewport } from "next";
import "./globals.css";
import { RuntimesProvider } from "@/components/ui/runtimes-context";
import { clientRuntimes } from "@/lib/runtimes/catalog";

export const metadata: Metadata = {
  title: "Sandpit",
  description: "Run untrusted code safely and fast on your own machine.",
  applicationName: "Sandpit",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  colorScheme: "light dark",
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#0a0a0a" },
  ],
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-white font-sans text-neutral-900 antialiased dark:bg-neutral-950 dark:text-neutral-100">
        <RuntimesProvider runtimes={clientRuntimes()}>{children}</RuntimesProvider>
      </body>
    </html>
  );
}
