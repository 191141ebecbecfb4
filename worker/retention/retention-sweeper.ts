import { abandonFailedTransaction, type SandpitDb } from "@/lib/db/open-database";
import { expireOldRuns, pruneTombstones, RETENTION_BATCH_SIZE } from "@/lib/runs/expire-old-runs";

export type RetentionSettings = { maxAgeMs: number; sweepMs: number };

/**
 * Deletes runs past retention in the background, in the worker: the web process answers every page and API
 * call on one thread, the worker's loop only waits on Docker. Each batch is a few short statements, and the
 * sweep yields between batches so runs claimed and finished meanwhile are not held up behind it.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly db: SandpitDb,
    private readonly settings: RetentionSettings,
  ) {}

  start(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.settings.sweepMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let total = 0;
    try {
      const cutoff = Date.now() - this.settings.maxAgeMs;
      for (;;) {
        const deleted = await expireOldRuns(this.db, cutoff);
        total += deleted;
        if (deleted < RETENTION_BATCH_SIZE) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Tombstones of runs deleted one retention period ago go too (their links turn from 410 into 404).
      while ((await pruneTombstones(this.db, cutoff - this.settings.maxAgeMs)) === RETENTION_BATCH_SIZE) await new Promise((resolve) => setImmediate(resolve));
      if (total > 0) console.log(`[worker] retention: deleted ${total} runs older than ${this.settings.maxAgeMs / 86_400_000} days`);
    } catch (error) {
      abandonFailedTransaction(this.db);
      // A locked or full database: the next sweep tries again.
      console.error("[worker] retention sweep failed:", (error as Error).message);
    } finally {
      this.sweeping = false;
    }
    return total;
  }
}
