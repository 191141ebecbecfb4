import type { SandpitDb } from "@/lib/db/open-database";
import { claimNextRun } from "@/lib/runs/claim-next-run";
import { isCancelRequested } from "@/lib/runs/record-run-progress";
import { executeRun, type ActiveRun, type ExecutionDeps } from "../execution/execute-run";

/**
 * Claims and executes runs, up to `concurrency` at once, oldest first. Woken at once by the web
 * server's "wake" command; a slow poll catches runs queued while no web server was connected.
 */
export class RunQueueLoop {
  private readonly active = new Map<string, ActiveRun>();
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight = 0;

  constructor(
    private readonly db: SandpitDb,
    private readonly deps: ExecutionDeps,
    private readonly concurrency: number,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.schedulePoll();
    this.pump();
  }

  /** Claims runs while there is capacity. */
  pump(): void {
    while (!this.stopped && this.inFlight < this.concurrency) {
      const run = claimNextRun(this.db, this.deps.workerId, this.deps.containerRuntime);
      if (!run) return;
      this.inFlight++;
      void executeRun(run, this.deps, (handle) => this.active.set(run.id, handle))
        .catch((error) => console.error(`[worker] run ${run.id} crashed the executor:`, error))
        .finally(() => {
          this.active.delete(run.id);
          this.inFlight--;
          this.pump();
        });
    }
  }

  cancel(runId: string): void {
    this.active.get(runId)?.stop("cancel");
  }

  activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
  }

  private schedulePoll(): void {
    this.pollTimer = setTimeout(() => {
      // Cancels recorded while the web link was down still reach their runs.
      for (const [runId, handle] of this.active) if (isCancelRequested(this.db, runId)) handle.stop("cancel");
      this.pump();
      this.schedulePoll();
    }, this.pollMs);
  }
}
