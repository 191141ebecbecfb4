import { abandonFailedTransaction, type SandpitDb } from "@/lib/db/open-database";
import { claimNextRun, type RunningShares } from "@/lib/runs/claim-next-run";
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
    private readonly shares?: RunningShares,
  ) {}

  start(): void {
    this.schedulePoll();
    this.pump();
  }

  /** Claims runs while there is capacity. */
  pump(): void {
    while (!this.stopped && this.inFlight < this.concurrency) {
      let run;
      try {
        run = claimNextRun(this.db, this.deps.workerId, this.deps.containerRuntime, this.shares);
      } catch (error) {
        abandonFailedTransaction(this.db);
        // Database locked past its busy timeout, or unwritable: the next poll tries again.
        console.error("[worker] could not claim a run:", (error as Error).message);
        return;
      }
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

  /** The container engine went away: every run in flight ends with a platform error. */
  engineLost(): void {
    for (const handle of this.active.values()) handle.stop("engine_lost");
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
      try {
        for (const [runId, handle] of this.active) if (isCancelRequested(this.db, runId)) handle.stop("cancel");
      } catch (error) {
        console.error("[worker] could not check for cancels:", (error as Error).message);
      }
      this.pump();
      this.schedulePoll();
    }, this.pollMs);
  }
}
