import type { SandpitDb } from "@/lib/db/open-database";
import { countLiveSandboxes } from "@/lib/sandboxes/sandbox-lifecycle";
import { requestDrain } from "@/lib/workers/worker-registry";
import type { WarmPool } from "../pool/warm-pool";
import type { RunQueueLoop } from "../queue/run-queue-loop";
import type { SandboxSupervisor } from "../sandboxes/sandbox-supervisor";

/** The parts of a worker a drain acts on. */
export type DrainableWorker = {
  db: SandpitDb;
  workerId: string;
  loop: Pick<RunQueueLoop, "drain" | "activeRunIds">;
  sandboxes: Pick<SandboxSupervisor, "drain" | "provisioningCount">;
  pool: Pick<WarmPool, "stop">;
};

/**
 * Drains a worker (README "Draining a worker"): it claims nothing new (its own sandboxes' runs excepted: no other
 * worker can serve them), its warm pool is emptied, the drain is recorded (health shows it; admission and other
 * workers' routing skip it), and the runs in flight and the sandboxes it holds go on until they end on their own:
 * runs finish, sandboxes are deleted or expire. Resolves true once nothing is left, false if `abandoned()` (a
 * shutdown took over) first.
 */
export async function drainWorker(worker: DrainableWorker, checkMs: number, abandoned: () => boolean = () => false): Promise<boolean> {
  worker.loop.drain();
  worker.sandboxes.drain();
  await requestDrain(worker.db, worker.workerId).catch((error) => console.error("[worker] could not record the drain:", (error as Error).message));
  await worker.pool.stop();
  for (;;) {
    if (abandoned()) return false;
    try {
      if (!worker.loop.activeRunIds().length && !worker.sandboxes.provisioningCount() && (await countLiveSandboxes(worker.db, worker.workerId)) === 0)
        return true;
    } catch (error) {
      // A busy database: the next check tries again.
      console.error("[worker] drain check failed:", (error as Error).message);
    }
    await new Promise((resolve) => setTimeout(resolve, checkMs));
  }
}
