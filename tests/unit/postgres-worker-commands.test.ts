import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePostgres, openPostgres, type PostgresDb } from "@/lib/db/open-postgres";
import type { WorkerCommand } from "@/lib/realtime/events";
import { notifyWorkers, parseWorkerCommand } from "@/lib/realtime/postgres-worker-commands";
import { installWorkerCommander, installWorkerNotifier, wakeWorkers, webBus } from "@/lib/realtime/web-bus";
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
      await notifyWorkers(db, cancel);
      expect(await both).toEqual([cancel, cancel]);

      // What a server restart does to a session: the listener must come back by itself.
      const woke = a.next((c) => c.type === "wake");
      await db.$client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sandpit-worker-listen' AND datname = current_database()",
      );
      await woke;
      const remove = { type: "delete-sandbox", sandboxId: "sb-9" } as const;
      const again = a.next((c) => c.type === "delete-sandbox");
      await notifyWorkers(db, remove);
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

describe("the web's command sender in PostgreSQL mode", () => {
  it("wakes workers by NOTIFY, and falls back to Socket.IO when NOTIFY fails", async () => {
    const overSocket: WorkerCommand[] = [];
    const listened = recorder();
    const listener = new PostgresCommandListener(database.url, listened.push);
    const saved = { ...webBus().senders };
    try {
      const connected = listened.next((c) => c.type === "wake");
      listener.start();
      await connected;
      installWorkerCommander((command) => overSocket.push(command));
      installWorkerNotifier((command) => notifyWorkers(db, command));
      const woke = listened.next((c) => c.type === "wake");
      wakeWorkers();
      await woke;
      expect(overSocket).toEqual([]);

      installWorkerNotifier(() => Promise.reject(new Error("server away")));
      wakeWorkers();
      await expect.poll(() => overSocket).toEqual([{ type: "wake" }]);
    } finally {
      webBus().senders = saved;
      listener.close();
    }
  });
});
