import { abandonFailedTransaction, type SandpitDb } from "@/lib/db/open-database";
import { claimNextRun, type RunningShares } from "@/lib/runs/claim-next-run";
import { isCancelRequested } from "@/lib/runs/record-run-progress";
import { executeRun, type ActiveRun, type ExecutionDeps } from "../execution/execute-run";
import { serialPump } from "./serial-pump";

/**
 * Claims and executes runs, up to `concurrency` at once, oldest first. Woken at once by the web
 * server's "wake" command; a slow poll catches runs queued while no web server was connected.
 */
export class RunQueueLoop {
  private readonly active = new Map<string, ActiveRun>();
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private draining = false;
  private inFlight = 0;

  constructor(
    private readonly db: SandpitDb,
    private readonly deps: ExecutionDeps,
    private readonly concurrency: number,
    private readonly pollMs: number,
    private readonly shares?: RunningShares,
    /** Runtimes whose image this worker has (CapacityTracker); absent: any. */
    private readonly runtimes?: () => readonly string[],
  ) {}

  start(): void {
    this.schedulePoll();
    this.pump();
  }

  /**
   * Claims runs while there is capacity. One claim loop at a time: claims are awaited, and two loops could
   * otherwise both see a free slot and claim past `concurrency`. A pump during the loop makes it look again.
   */
  readonly pump = serialPump(
    () => this.claimWhileFree(),
    () => this.stopped,
  );

  private async claimWhileFree(): Promise<void> {
    while (!this.stopped && this.inFlight < this.concurrency) {
      let run;
      try {
        run = await claimNextRun(this.db, this.deps.workerId, this.deps.containerRuntime, this.shares, {
          runtimes: this.runtimes?.() ?? null,
          newRuns: !this.draining,
        });
      } catch (error) {
        abandonFailedTransaction(this.db);
        // Database locked past its busy timeout, or unwritable: the next poll tries again.
        console.error("[worker] could not claim a run:", (error as Error).message);
        return;
      }
      if (!run) return;
      // Claimed is ours, even if stop() came meanwhile: it runs (shutdown waits for active runs).
      const claimed = run;
      this.inFlight++;
      void executeRun(claimed, this.deps, (handle) => this.active.set(claimed.id, handle))
        .catch((error) => console.error(`[worker] run ${claimed.id} crashed the executor:`, error))
        .finally(() => {
          this.active.delete(claimed.id);
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

  /** Draining: claims only the runs of this worker's own sandboxes (which no other worker can serve), no new ones. */
  drain(): void {
    this.draining = true;
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
      void this.checkCancels().finally(() => {
        this.pump();
        if (!this.stopped) this.schedulePoll();
      });
    }, this.pollMs);
  }

  /** Cancels recorded while the web link was down still reach their runs. */
  private async checkCancels(): Promise<void> {
    try {
      for (const [runId, handle] of [...this.active]) if (await isCancelRequested(this.db, runId)) handle.stop("cancel");
    } catch (error) {
      console.error("[worker] could not check for cancels:", (error as Error).message);
    }
  }
}
