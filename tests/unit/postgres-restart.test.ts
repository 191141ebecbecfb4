import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePostgres, openPostgres, type PostgresDb } from "@/lib/db/open-postgres";
import { storageFault } from "@/lib/errors/sandpit-error";
import type { WorkerCommand } from "@/lib/realtime/events";
import { notifyWorkers } from "@/lib/realtime/postgres-worker-commands";
import { PostgresCommandListener } from "@/worker/postgres-command-listener";
import { freePort } from "../support/stack";

/**
 * A PostgreSQL restart, for real: a private cluster (scripts/ensure-postgres.sh with its own directory and port, so
 * the shared test server is never touched) stopped and started under an open pool and a listening worker.
 */
let dir: string;
let env: NodeJS.ProcessEnv;
const ensure = (action: string) =>
  execFileSync("bash", [path.resolve("scripts/ensure-postgres.sh"), action], { env, encoding: "utf8", timeout: 300_000 }).trim();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "sandpit-pg-restart-"));
  // The cluster's owner (postgres, as root) must reach its directory.
  execFileSync("chmod", ["0755", dir]);
  env = { ...process.env, SANDPIT_PG_DIR: path.join(dir, "cluster"), SANDPIT_PG_PORT: String(await freePort()) };
}, 60_000);

afterAll(() => {
  ensure("stop");
  rmSync(dir, { recursive: true, force: true });
});

describe("a PostgreSQL restart", () => {
  it("fails requests with 503s while the server is down, and the pool and the listener carry on once it is back", async () => {
    const url = ensure("start");
    expect(ensure("start")).toBe(url);
    let db: PostgresDb | undefined;
    const commands: WorkerCommand[] = [];
    const listener = new PostgresCommandListener(url, (command) => commands.push(command));
    try {
      db = await openPostgres(url, { max: 2, connectionTimeoutMs: 2_000 });
      listener.start();
      await expect.poll(() => commands.length, { timeout: 10_000 }).toBe(1);
      await db.execute(sql`INSERT INTO expired_runs (id, expired_at) VALUES ('before', 1)`);

      ensure("stop");
      const failure = await db.execute(sql`SELECT count(*) FROM expired_runs`).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(storageFault(failure)).toMatchObject({ code: "unavailable" });

      ensure("start");
      const rows = await db.execute<{ id: string }>(sql`SELECT id FROM expired_runs`);
      expect(rows.rows).toEqual([{ id: "before" }]);
      // The listener reconnected by itself (a wake on reconnect), and hears commands again.
      await expect.poll(() => commands.filter((command) => command.type === "wake").length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      await notifyWorkers(db, { type: "cancel", runId: "after-restart" });
      await expect.poll(() => commands.at(-1), { timeout: 10_000 }).toEqual({ type: "cancel", runId: "after-restart" });
    } finally {
      listener.close();
      if (db) await closePostgres(db);
    }
  }, 120_000);
});
