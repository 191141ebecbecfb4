import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { chmodSync, closeSync, openSync } from "node:fs";
import path from "node:path";
import { is } from "drizzle-orm";
import { PgDatabase } from "drizzle-orm/pg-core";
import { giveToDirectoryOwner } from "@/lib/config/shared-settings";
import { dialectOf, processDialect } from "./database-dialect";
import { closePostgres, openPostgres, type PostgresDb } from "./open-postgres";
import * as schema from "./schema";

/**
 * The database as domain code sees it: typed as SQLite's drizzle, and in PostgreSQL mode node-postgres's drizzle
 * over the tables schema.ts picked. Both answer the same awaited queries with the same rows; what differs stays
 * in lib/db (postgresOf, queryRows, the maintenance below).
 */
export type SandpitDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** The PostgreSQL side of a database, or undefined for SQLite: for the few statements the dialects say differently. */
export function postgresOf(db: SandpitDb): PostgresDb | undefined {
  return is(db, PgDatabase) ? (db as unknown as PostgresDb) : undefined;
}

const migrationsFolder = path.resolve(/*turbopackIgnore: true*/ process.cwd(), "drizzle");

/**
 * Opens the database and applies pending migrations: `location` is a PostgreSQL URL (PostgreSQL mode, see
 * open-postgres.ts) or the SQLite file's path, which opens in WAL mode (web and worker write concurrently).
 */
export async function openDatabase(location: string): Promise<SandpitDb> {
  const dialect = /^[a-z]+:\/\//.test(location) ? dialectOf(location) : "sqlite";
  // The tables were picked from DATABASE_URL when schema.ts loaded: another dialect's database cannot use them.
  if (dialect !== processDialect()) {
    throw new Error(`cannot open a ${dialect} database in a process whose DATABASE_URL selects ${processDialect()}`);
  }
  if (dialect === "postgres") return (await openPostgres(location)) as unknown as SandpitDb;
  return openSqlite(location);
}

async function openSqlite(databasePath: string): Promise<SandpitDb> {
  // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the database file's mode
  // (and, when run as root, its owner), so all three stay private to the web user (docs/security.md).
  closeSync(openSync(databasePath, "a", 0o600));
  chmodSync(databasePath, 0o600);
  giveToDirectoryOwner(databasePath);
  const sqlite = new Database(databasePath);
  // Takes effect on a new database; an existing one needs one VACUUM (scripts/migrate.ts does it).
  sqlite.pragma("auto_vacuum = INCREMENTAL");
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  const db = drizzle(sqlite, { schema }) as SandpitDb;
  migrate(db, { migrationsFolder });
  return Promise.resolve(db);
}

/**
 * After a failed write (disk full, locked), SQLite may leave the connection inside the transaction it
 * could not finish; every later statement would then "succeed" into a transaction never committed.
 * Roll it back so the next write starts clean.
 */
export function abandonFailedTransaction(db: SandpitDb): void {
  // PostgreSQL's driver rolls a failed transaction back itself, and a failed statement outside one leaves none.
  if (postgresOf(db) || !db.$client.inTransaction) return;
  try {
    db.$client.exec("ROLLBACK");
  } catch (error) {
    console.error("[db] could not roll back a failed transaction:", (error as Error).message);
  }
}

/**
 * Hands up to `pages` free pages back to the file system (auto_vacuum is INCREMENTAL), after retention deleted
 * a batch. SQLite maintenance: a database server reclaims space by itself.
 */
export function returnFreePages(db: SandpitDb, pages: number): void {
  if (postgresOf(db)) return;
  db.$client.pragma(`incremental_vacuum(${Math.trunc(pages)})`);
}

/** An existing database made before auto_vacuum was INCREMENTAL: rebuild it once so retention can shrink it. */
export function enableIncrementalVacuum(db: SandpitDb): boolean {
  if (postgresOf(db)) return false;
  const INCREMENTAL = 2;
  if (db.$client.pragma("auto_vacuum", { simple: true }) === INCREMENTAL) return false;
  db.$client.pragma("auto_vacuum = INCREMENTAL");
  db.$client.exec("VACUUM");
  return true;
}

/** Closes the connection (scripts and tests; the web and worker processes keep theirs for life). */
export async function closeDatabase(db: SandpitDb): Promise<void> {
  const postgres = postgresOf(db);
  if (postgres) return closePostgres(postgres);
  db.$client.close();
  return Promise.resolve();
}
