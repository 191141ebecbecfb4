import { sql } from "drizzle-orm";
import type { PostgresDb } from "@/lib/db/open-postgres";
import { workerCommandSchema, type WorkerCommand } from "./events";

/**
 * PostgreSQL mode's command channel to the workers (LISTEN/NOTIFY): every worker listens, whichever web server it
 * is linked to (or none), so a run queued on any web server wakes a worker on any host at once.
 */
export const WORKER_COMMAND_CHANNEL = "sandpit_worker_commands";

/** NOTIFY payloads are capped at 8000 bytes by PostgreSQL; commands are a few dozen. */
const MAX_PAYLOAD_BYTES = 8000;

export async function notifyWorkers(db: PostgresDb, command: WorkerCommand): Promise<void> {
  await db.execute(sql`SELECT pg_notify(${WORKER_COMMAND_CHANNEL}, ${JSON.stringify(command)})`);
}

/** A notification's payload as a command, or undefined for anything else on the channel. */
export function parseWorkerCommand(payload: string | undefined): WorkerCommand | undefined {
  if (!payload || payload.length > MAX_PAYLOAD_BYTES) return undefined;
  try {
    const parsed = workerCommandSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
