export type RemovalQueueSettings = {
  /** Removals in flight at once. */
  concurrency: number;
  /** A removal waits at most this long for `busy()` to clear; then it runs anyway, so none is put off for ever. */
  maxDeferMs: number;
  /** While this says true (the pool is creating containers), removals wait: a warm container matters more than a gone one. */
  busy: () => boolean;
};

type Pending = { id: string; queuedAt: number; resolve: () => void; reject: (error: unknown) => void };

/**
 * Used single-use containers, removed in the background off the run's path: at most `concurrency` at a time,
 * and after the pool's refills rather than beside them (each removal is a burst of work in dockerd, containerd
 * and the runtime that would slow the creation a waiting run needs). Every container queued is removed.
 */
export class RemovalQueue {
  private readonly pending: Pending[] = [];
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private urgent = false;

  constructor(
    private readonly remove: (id: string) => Promise<void>,
    private readonly settings: RemovalQueueSettings,
  ) {}

  /** Resolves once the container is gone (rejects with the engine's error). */
  enqueue(id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ id, queuedAt: Date.now(), resolve, reject });
      this.pump();
    });
  }

  /** Whatever `busy()` depends on has changed: start the removals it held back. */
  kick(): void {
    this.pump();
  }

  size(): number {
    return this.pending.length + this.active;
  }

  /** Removes everything queued without waiting for `busy()` (shutdown), and resolves when all are gone. */
  async drain(): Promise<void> {
    this.urgent = true;
    this.pump();
    while (this.size() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.active < this.settings.concurrency && this.pending.length) {
      const head = this.pending[0];
      const waitMs = head.queuedAt + this.settings.maxDeferMs - Date.now();
      if (!this.urgent && waitMs > 0 && this.settings.busy()) {
        this.timer = setTimeout(() => this.pump(), waitMs);
        this.timer.unref?.();
        return;
      }
      this.pending.shift();
      this.active++;
      this.remove(head.id)
        .then(head.resolve, head.reject)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }
}
