import type { SandpitDb } from "@/lib/db/open-database";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { servingWorkers } from "./worker-registry";

/** How soon a client refused for a missing runtime image may ask again (an operator builds it, a worker joins). */
const RETRY_AFTER_S = 30;

/**
 * Admission for a new run or sandbox of `runtime`: refused (503) when live workers serve and every one of them has
 * reported its runtimes without this one, since it would wait in the queue with no worker ever claiming it
 * (claims are routed by runtime image, lib/runs/claim-next-run.ts). With no serving worker at all (starting,
 * restarting, all draining) it queues as always, and a worker that has not reported capacity yet may serve anything.
 */
export async function assertRuntimeServed(db: SandpitDb, runtime: string): Promise<void> {
  const serving = await servingWorkers(db);
  if (!serving.length) return;
  if (serving.some((worker) => !worker.capacity || worker.capacity.runtimes.includes(runtime))) return;
  throw new SandpitError(
    "unavailable",
    `no live worker has the ${runtime} runtime image (build it on a worker host with npm run images); live workers serve: ${[...new Set(serving.flatMap((worker) => worker.capacity!.runtimes))].join(", ") || "no runtime"}`,
    { retryAfterS: RETRY_AFTER_S },
  );
}
