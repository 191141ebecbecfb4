import path from "node:path";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import * as schema from "./postgres-schema";

export type PostgresDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

const migrationsFolder = path.resolve(/*turbopackIgnore: true*/ process.cwd(), "drizzle-postgres");

/** pg_advisory_lock(namespace, key) namespaces: this installation's own, apart from any other user of the server. */
export const ADVISORY_LOCKS = {
  migrate: [0x5a4d, 1],
  claimOwner: 0x5a4e,
  /** Critical sections across every process on the database (database-lock.ts). */
  sections: { admission: [0x5a4d, 2] },
} as const;

export type PostgresPoolSettings = { max?: number; connectionTimeoutMs?: number };

/**
 * A pool of connections to PostgreSQL (DATABASE_URL) and its migrations applied. The pool reconnects by itself:
 * a connection that breaks (the server restarted) is dropped, and the next query opens a new one; queries while
 * the server is away fail fast (storageFault in lib/errors/sandpit-error.ts maps those errors to 503s).
 */
export async function openPostgres(url: string, settings: PostgresPoolSettings = {}): Promise<PostgresDb> {
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.max ?? 10,
    connectionTimeoutMillis: settings.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // A hung server must not hang a request: statements past this are cancelled by the server.
    statement_timeout: 30_000,
    // The client's own bound, a little past the server's: a query on a connection that died without a word (a server
    // restart mid-transaction) would otherwise wait forever, and with it a worker's claim loop or heartbeat.
    query_timeout: 35_000,
    application_name: "sandpit",
  });
  // An idle connection the server closed: without a listener the pool's "error" event would end the process.
  pool.on("error", (error) => console.error("[db] PostgreSQL connection lost (the next query reconnects):", error.message));
  const db = drizzle(pool, { schema }) as PostgresDb;
  try {
    await migrateOnce(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return db;
}

/** Web servers and workers start together: one applies the pending migrations while the others wait for it. */
async function migrateOnce(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  const [namespace, key] = ADVISORY_LOCKS.migrate;
  try {
    await client.query("SELECT pg_advisory_lock($1, $2)", [namespace, key]);
    await migrate(drizzle(client, { schema }), { migrationsFolder });
  } finally {
    await client.query("SELECT pg_advisory_unlock($1, $2)", [namespace, key]).catch(() => undefined);
    client.release();
  }
}

export async function closePostgres(db: PostgresDb): Promise<void> {
  await db.$client.end();
}
