import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/**
 * A PostgreSQL server of a test's own, made and started by scripts/ensure-postgres.sh (Debian's packages) in its own
 * folder and port, so the test may stop and restart it without touching the server other tests share.
 */
export type PrivatePostgres = {
  /** A fresh, empty database on it; its URL. */
  createDatabase(prefix: string): string;
  dropDatabase(url: string): void;
  stop(): void;
  start(): void;
};

export function privatePostgres(name: string, port: number): PrivatePostgres {
  const env = { ...process.env, SANDPIT_PG_DIR: `/tmp/sandpit-pg-${name}`, SANDPIT_PG_PORT: String(port) };
  const script = (action: string) =>
    // The first start on a clean machine installs Debian's postgresql: minutes, not seconds.
    execFileSync("bash", [path.join(root, "scripts/ensure-postgres.sh"), action], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    }).trim();
  const serverUrl = script("start");
  return {
    createDatabase(prefix) {
      const database = `${prefix}_${randomBytes(4).toString("hex")}`;
      execFileSync("psql", [serverUrl, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE ${database}`]);
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      return url.toString();
    },
    dropDatabase(url) {
      const database = new URL(url).pathname.slice(1);
      execFileSync("psql", [serverUrl, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
    },
    stop: () => void script("stop"),
    start: () => void script("start"),
  };
}
