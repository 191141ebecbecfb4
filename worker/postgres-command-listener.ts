import pg from "pg";
import { parseWorkerCommand, WORKER_COMMAND_CHANNEL } from "@/lib/realtime/postgres-worker-commands";
import type { WorkerCommand } from "@/lib/realtime/events";

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

/**
 * The worker's LISTEN on the command channel (PostgreSQL mode), on a connection of its own (a pooled one would
 * be handed to other queries). When the connection breaks (the server restarted) it reconnects with backoff, and
 * on every (re)connect hands over a wake: notifications sent meanwhile were lost, so the loops look for themselves.
 */
export class PostgresCommandListener {
  private client: pg.Client | undefined;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly onCommand: (command: WorkerCommand) => void,
  ) {}

  start(): void {
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    void this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000, keepAlive: true, application_name: "sandpit-worker-listen" });
    this.client = client;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      void client.end().catch(() => undefined);
      this.scheduleReconnect(error.message);
    };
    client.on("error", fail);
    client.on("end", () => fail(new Error("connection ended")));
    client.on("notification", (message) => {
      if (message.channel !== WORKER_COMMAND_CHANNEL) return;
      const command = parseWorkerCommand(message.payload);
      if (command) this.onCommand(command);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WORKER_COMMAND_CHANNEL}`);
      this.retryMs = RETRY_MIN_MS;
      this.onCommand({ type: "wake" });
    } catch (error) {
      fail(error as Error);
    }
  }

  private scheduleReconnect(reason: string): void {
    if (this.closed) return;
    console.error(`[worker] PostgreSQL command channel lost (${reason}); reconnecting in ${this.retryMs} ms`);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
