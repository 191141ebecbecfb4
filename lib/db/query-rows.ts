import type { SQL } from "drizzle-orm";
import type { SandpitDb } from "./open-database";

/**
 * Runs one raw SQL statement built with drizzle's `sql` template (values as placeholders, never spliced) and
 * returns its rows with the column names the statement gives them. For the few statements drizzle's query
 * builder cannot say (the fair claim's CTE). Keep the SQL portable: standard SQL that SQLite and PostgreSQL share.
 */
export async function queryRows<T>(db: SandpitDb, query: SQL): Promise<T[]> {
  return Promise.resolve(db.all<T>(query));
}
