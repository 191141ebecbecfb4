import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePostgres, openPostgres, type PostgresDb } from "@/lib/db/open-postgres";
import type { WorkerCommand } from "@/lib/realtime/events";
import { notifyWorkers, parseWorkerCommand } from "@/lib/realtime/postgres-worker-commands";
import { PostgresCommandListener } from "@/worker/postgres-command-listener";
import { freshPostgresDatabase } from "../support/postgres";

let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
let db: PostgresDb;

beforeAll(async () => {
  database = await freshPostgresDatabase();
  db = await openPostgres(database.url);
}, 300_000);

afterAll(async () => {
  await closePostgres(db);
  await database?.drop();
});

/** Commands a listener received, and a wait for the next one matching. */
function recorder() {
  const received: WorkerCommand[] = [];
  const next = async (match: (command: WorkerCommand) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (let seen = received.length; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
      const found = received.slice(seen).find(match);
      if (found) return found;
    }
    throw new Error(`no matching command within ${timeoutMs} ms; got ${JSON.stringify(received)}`);
  };
  return { received, next, push: (command: WorkerCommand) => received.push(command) };
}

describe("worker commands over LISTEN/NOTIFY", () => {
  it("reaches every listening worker, and reconnects (with a wake) after its connection is killed", async () => {
    const [a, b] = [recorder(), recorder()];
    const listeners = [new PostgresCommandListener(database.url, a.push), new PostgresCommandListener(database.url, b.push)];
    try {
      const connected = Promise.all([a.next((c) => c.type === "wake"), b.next((c) => c.type === "wake")]);
      listeners.forEach((listener) => listener.start());
      await connected;

      const cancel = { type: "cancel", runId: "run-1" } as const;
      const both = Promise.all([a.next((c) => c.type === "cancel"), b.next((c) => c.type === "cancel")]);
      await notifyWorkers(db.$client, cancel);
      expect(await both).toEqual([cancel, cancel]);

      // What a server restart does to a session: the listener must come back by itself.
      const woke = a.next((c) => c.type === "wake");
      await db.$client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sandpit-worker-listen' AND datname = current_database()",
      );
      await woke;
      const remove = { type: "delete-sandbox", sandboxId: "sb-9" } as const;
      const again = a.next((c) => c.type === "delete-sandbox");
      await notifyWorkers(db.$client, remove);
      expect(await again).toEqual(remove);
    } finally {
      listeners.forEach((listener) => listener.close());
    }
  });

  it("ignores payloads that are not commands", () => {
    expect(parseWorkerCommand('{"type":"wake"}')).toEqual({ type: "wake" });
    expect(parseWorkerCommand('{"type":"format-disk"}')).toBeUndefined();
    expect(parseWorkerCommand("not json")).toBeUndefined();
    expect(parseWorkerCommand(`{"type":"cancel","runId":"${"x".repeat(9000)}"}`)).toBeUndefined();
    expect(parseWorkerCommand(undefined)).toBeUndefined();
  });
});
