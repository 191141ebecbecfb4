import type { RunEvent } from "./events";

const ENDED = Number.POSITIVE_INFINITY;

/**
 * What one browser connection has been sent, per run: the highest chunk seq, or "ended". A subscriber gets
 * a replay from the database while live events keep arriving; the ledger lets each event through once,
 * so a chunk that was both replayed and relayed reaches the client exactly once, in order.
 */
export class DeliveryLedger {
  private readonly sent = new Map<string, number>();

  /** True when `event` is new to this connection (and records it as sent). */
  admit(event: RunEvent): boolean {
    const last = this.sent.get(event.runId) ?? -1;
    if (last === ENDED) return false;
    if (event.type === "end") {
      this.sent.set(event.runId, ENDED);
      return true;
    }
    if (event.type !== "chunk") return true;
    if (event.seq <= last) return false;
    this.sent.set(event.runId, event.seq);
    return true;
  }

  /**
   * Where to replay from (the last chunk seq sent) when `event` shows that this connection may have missed chunks:
   * a chunk past the next one expected, or the end (it carries no seq); null when nothing can be missing.
   * Events relayed between web servers can be lost while Redis reconnects: the database fills the gap.
   */
  replayBefore(event: RunEvent): number | null {
    const last = this.sent.get(event.runId);
    if (last === undefined || last === ENDED) return null;
    if (event.type === "chunk") return event.seq > last + 1 ? last : null;
    return event.type === "end" ? last : null;
  }

  /** Whether this connection has been sent the run's end. */
  ended(runId: string): boolean {
    return this.sent.get(runId) === ENDED;
  }

  /** A fresh subscription replays from `afterSeq`: forget what was sent after it. */
  resubscribe(runId: string, afterSeq: number): void {
    this.sent.set(runId, afterSeq);
  }

  forget(runId: string): void {
    this.sent.delete(runId);
  }
}
