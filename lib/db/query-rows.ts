import type { SQL } from "drizzle-orm";
import { postgresOf, type SandpitDb } from "./open-database";

/**
 * Runs one raw SQL statement built with drizzle's `sql` template (values as placeholders, never spliced) and
 * returns its rows with the column names the statement gives them. For the few statements drizzle's query
 * builder cannot say (the fair claim's CTE). Keep the SQL portable: standard SQL that SQLite and PostgreSQL share.
 * PostgreSQL returns bigint and count(*) columns as strings: read numbers with Number().
 */
export async function queryRows<T>(db: SandpitDb, query: SQL): Promise<T[]> {
  const postgres = postgresOf(db);
  if (postgres) return (await postgres.execute(query)).rows as T[];
  return Promise.resolve(db.all<T>(query));
}
