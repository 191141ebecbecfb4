import { and, count, eq, gt, inArray, min } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs, sandboxes } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";

import type { AdmissionSettings } from "@/lib/runs/enqueue-run";

/** A token's live sandboxes, and the admission limits its runs (sandbox runs, file transfers) pass like any run. */
export type TokenLimitSettings = { liveSandboxes: number } & AdmissionSettings;

const WINDOW_MS = 60_000;

/** Per-token quotas, counted in the database so every web process agrees. Over a quota → 429 with Retry-After. */
export async function assertRunQuota(db: SandpitDb, tokenId: string, runsPerMinute: number, now = Date.now()): Promise<void> {
  const since = now - WINDOW_MS;
  const [row] = await db
    .select({ n: count(), oldest: min(runs.queuedAt) })
    .from(runs)
    .where(and(eq(runs.tokenId, tokenId), gt(runs.queuedAt, since)));
  if (row && row.n >= runsPerMinute) {
    const retryAfterS = ((row.oldest ?? now) + WINDOW_MS - now) / 1000;
    throw new SandpitError("rate_limited", `this token may start ${runsPerMinute} runs per minute`, { retryAfterS });
  }
}

export async function assertSandboxQuota(db: SandpitDb, tokenId: string, limits: TokenLimitSettings): Promise<void> {
  const [row] = await db
    .select({ n: count(), soonest: min(sandboxes.expiresAt) })
    .from(sandboxes)
    .where(and(eq(sandboxes.tokenId, tokenId), inArray(sandboxes.status, ["creating", "ready"])));
  if (row && row.n >= limits.liveSandboxes) {
    const retryAfterS = Math.max(1, ((row.soonest ?? Date.now()) - Date.now()) / 1000);
    throw new SandpitError("rate_limited", `this token may hold ${limits.liveSandboxes} live sandboxes; delete one first`, { retryAfterS });
  }
}
