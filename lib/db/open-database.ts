import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { chmodSync, closeSync, openSync } from "node:fs";
import path from "node:path";
import { giveToDirectoryOwner } from "@/lib/config/shared-settings";
import * as schema from "./schema";

export type SandpitDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = path.resolve(/*turbopackIgnore: true*/ process.cwd(), "drizzle");

/**
 * Opens the database in WAL mode (web and worker write concurrently) and applies pending migrations.
 * Async although SQLite's driver is not: PostgreSQL's connect and migrator are (docs/scaling-design.md).
 */
export async function openDatabase(databasePath: string): Promise<SandpitDb> {
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
  if (!db.$client.inTransaction) return;
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
  db.$client.pragma(`incremental_vacuum(${Math.trunc(pages)})`);
}

/** An existing database made before auto_vacuum was INCREMENTAL: rebuild it once so retention can shrink it. */
export function enableIncrementalVacuum(db: SandpitDb): boolean {
  const INCREMENTAL = 2;
  if (db.$client.pragma("auto_vacuum", { simple: true }) === INCREMENTAL) return false;
  db.$client.pragma("auto_vacuum = INCREMENTAL");
  db.$client.exec("VACUUM");
  return true;
}

/** Closes the connection (scripts and tests; the web and worker processes keep theirs for life). */
export async function closeDatabase(db: SandpitDb): Promise<void> {
  db.$client.close();
  return Promise.resolve();
}
