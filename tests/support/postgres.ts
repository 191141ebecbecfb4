import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { dialectOf } from "../../lib/db/database-dialect.js";

let serverUrl: string | undefined;

/** Whether this test process runs in PostgreSQL mode (DATABASE_URL set, as scripts/test.sh's PostgreSQL pass does). */
export const testsOnPostgres = dialectOf(process.env.DATABASE_URL) === "postgres";

/**
 * The test PostgreSQL server: DATABASE_URL's in PostgreSQL mode; otherwise scripts/ensure-postgres.sh installs it
 * from Debian's packages if needed and starts it (loopback only) unless it runs already.
 */
export function postgresServerUrl(): string {
  if (testsOnPostgres) return process.env.DATABASE_URL!;
  serverUrl ??= execFileSync("bash", [path.resolve("scripts/ensure-postgres.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 300_000,
  }).trim();
  return serverUrl;
}

/** A new, empty database on the test server, and how to drop it (open connections are ended first). */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = postgresServerUrl();
  const name = `sandpit_test_${randomBytes(6).toString("hex")}`;
  await asAdmin(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => asAdmin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function asAdmin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
