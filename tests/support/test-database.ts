import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { closeDatabase, openDatabase, type SandpitDb } from "@/lib/db/open-database";
import { freshPostgresDatabase, testsOnPostgres } from "./postgres";

/**
 * Unit tests' databases, in the test process's dialect: a SQLite file in a temporary folder, or in PostgreSQL
 * mode (DATABASE_URL set, scripts/test.sh's PostgreSQL pass) a new database on that server. Every connection is
 * closed and every PostgreSQL database dropped after the file's tests.
 */
const opened: SandpitDb[] = [];
const drops: (() => Promise<void>)[] = [];

afterAll(async () => {
  await Promise.all(opened.splice(0).map((db) => closeDatabase(db).catch(() => undefined)));
  await Promise.all(drops.splice(0).map((drop) => drop()));
});

/** Where a new, empty database is: what openTestDatabase (and openDatabase) take. */
export async function freshDatabaseLocation(): Promise<string> {
  if (!testsOnPostgres) return path.join(mkdtempSync(path.join(os.tmpdir(), "sandpit-unit-")), "test.db");
  const database = await freshPostgresDatabase();
  drops.push(database.drop);
  return database.url;
}

/** A connection to the database at `location` (another one to the same database: another worker, say). */
export async function openTestDatabase(location: string): Promise<SandpitDb> {
  const db = await openDatabase(location);
  opened.push(db);
  return db;
}

export async function freshDatabase(): Promise<SandpitDb> {
  return openTestDatabase(await freshDatabaseLocation());
}
