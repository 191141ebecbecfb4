/**
 * Which database a process uses, from DATABASE_URL: unset or empty, the embedded SQLite file (DATABASE_PATH);
 * `postgres://…` or `postgresql://…`, that PostgreSQL server. The one place this is decided: the config modules
 * validate DATABASE_URL with it, and schema.ts picks the process's tables with it.
 */
export type DatabaseDialect = "sqlite" | "postgres";

const POSTGRES_URL = /^postgres(?:ql)?:\/\/\S+$/;

export const DATABASE_URL_HINT = "DATABASE_URL must be a postgres:// or postgresql:// URL, or unset for the embedded SQLite database";

export function dialectOf(databaseUrl: string | undefined): DatabaseDialect {
  if (!databaseUrl) return "sqlite";
  if (databaseUrl.length <= 2000 && POSTGRES_URL.test(databaseUrl)) return "postgres";
  throw new Error(DATABASE_URL_HINT);
}

/**
 * This process's dialect, from its environment (schema.ts reads it once, at load, before any config is parsed). Read
 * here, not through lib/config: this module imports nothing, because schema.ts reaches the browser bundle's module
 * graph, where the config modules' node:fs would break the build.
 */
export function processDialect(): DatabaseDialect {
  return dialectOf(process.env.DATABASE_URL);
}

/**
 * Which database this is, for naming an installation (worker/config.ts's instance id): the SQLite file, or the
 * PostgreSQL server and database, without the password (which may change).
 */
export function databaseIdentity(databasePath: string, databaseUrl: string | undefined): string {
  if (!databaseUrl) return databasePath;
  const url = new URL(databaseUrl);
  return `${url.protocol}//${url.username}@${url.host}${url.pathname}`;
}
