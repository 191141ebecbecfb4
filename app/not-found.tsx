import Link from "next/link";
import { connection } from "next/server";

/**
 * Rendered per request, not prerendered: only then do its scripts carry this request's CSP nonce
 * (a build-time page has none, and the CSP would block its scripts).
 */
export default async function NotFound() {
  await connection();
  return (
    <main className="mx-auto flex max-w-xl flex-col gap-3 p-8">
      <h1 className="text-xl font-semibold">Not found</h1>
      <p>There is nothing at this address. Run ids are case-sensitive.</p>
      <Link href="/" className="underline">
        Open the playground
      </Link>
    </main>
  );
}
