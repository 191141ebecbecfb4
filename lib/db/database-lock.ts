import { takeTurns, type Turns } from "@/lib/os/take-turns";
import { ADVISORY_LOCKS } from "./open-postgres";
import { postgresOf, type SandpitDb } from "./open-database";

type SectionName = keyof typeof ADVISORY_LOCKS.sections;

/**
 * Runs `critical` alone: one at a time per database connection (the process's one: web-database.ts), and in
 * PostgreSQL mode one at a time across every process on the database too, under a session advisory lock held on
 * one pooled connection while `critical`'s own queries use others. The server drops the lock if that connection
 * dies. Taking turns in the process first keeps a burst of callers from each holding a pooled connection while
 * they wait, which would leave none for the section that holds the lock.
 */
export function withDatabaseLock<T>(db: SandpitDb, name: SectionName, critical: () => Promise<T>): Promise<T> {
  return turnsOf(
    db,
    name,
  )(async () => {
    const postgres = postgresOf(db);
    if (!postgres) return critical();
    const [namespace, id] = ADVISORY_LOCKS.sections[name];
    const client = await postgres.$client.connect();
    let broken: Error | undefined;
    try {
      await client.query("SELECT pg_advisory_lock($1, $2)", [namespace, id]);
      return await critical();
    } finally {
      await client.query("SELECT pg_advisory_unlock($1, $2)", [namespace, id]).catch((error: Error) => (broken = error));
      // A connection that could not unlock is dropped: its session, and the lock with it, ends.
      client.release(broken);
    }
  });
}

/** Kept on the connection object itself: the Next.js bundle and the custom server share it, not this module. */
function turnsOf(db: SandpitDb, name: SectionName): Turns {
  const holder = db as unknown as Record<symbol, Turns | undefined>;
  const key = Symbol.for(`sandpit.databaseLock.${name}`);
  return (holder[key] ??= takeTurns());
}
