import type { SandpitDb } from "@/lib/db/open-database";
import { withDatabaseLock } from "@/lib/db/database-lock";

/**
 * Admission is check-then-insert: count (queued runs, the token's rate, live sandboxes, a parent's budget), then
 * insert. With synchronous SQLite that pair could not interleave; with awaited queries another request could
 * count between them and both slip past a limit. So admissions take turns: one at a time in the web process (the
 * Next.js bundle and the custom server share its connection), and in PostgreSQL mode one at a time across every
 * web server on the database (database-lock.ts). No limit is overshot.
 */
export function withAdmissionLock<T>(db: SandpitDb, admit: () => Promise<T>): Promise<T> {
  return withDatabaseLock(db, "admission", admit);
}
