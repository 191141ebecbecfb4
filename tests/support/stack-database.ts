import Database from "better-sqlite3";
import path from "node:path";
import pg from "pg";

/** Where a stack keeps its data: the SQLite file in its DATA_DIR, or in PostgreSQL mode its own database. */
export type StackDatabase = { dataDir: string; databaseUrl: string | undefined };

/**
 * Reads a stack's database behind its back, as a test's witness (read-only on SQLite). The query is written with
 * PostgreSQL's `$1` placeholders, each once and in order: on SQLite they become plain `?`.
 */
export async function readStackDatabase<T>(stack: StackDatabase, query: string, params: unknown[] = []): Promise<T[]> {
  if (stack.databaseUrl) {
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      return (await client.query(query, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(query.replace(/\$\d+/g, "?")).all(...params) as T[];
  } finally {
    db.close();
  }
}
