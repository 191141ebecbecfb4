import { and, count, eq, min, sql } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { runs } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import type { RunLimitSettings } from "./run-request-schema";
import type { RunOwner } from "./run-owner";

/**
 * Per-owner shares. `maxQueued` is enforced here, at admission; `maxRunning` by the claim (claim-next-run.ts),
 * which leaves an owner's further runs queued while it holds that many slots.
 */
export type ShareLimits = { maxQueued: number; maxRunning: number };

export type FairShareSettings = {
  owner: ShareLimits;
  anonymous: ShareLimits & { maxTimeoutS: number; maxMemoryMb: number; maxVcpus: number };
};

const RETRY_AFTER_MIN_S = 1;
const RETRY_AFTER_MAX_S = 60;

export function shareLimitsFor(shares: FairShareSettings, owner: RunOwner): ShareLimits {
  return owner.anonymous ? shares.anonymous : shares.owner;
}

/** The request limits an owner may ask for: anonymous runs get the lower of the two. */
export function runLimitsFor(limits: RunLimitSettings, shares: FairShareSettings | undefined, owner: RunOwner): RunLimitSettings {
  if (!shares || !owner.anonymous) return limits;
  const timeoutMaxS = Math.min(limits.timeoutMaxS, shares.anonymous.maxTimeoutS);
  const memoryMaxMb = Math.min(limits.memoryMaxMb, shares.anonymous.maxMemoryMb);
  return {
    timeoutMaxS,
    timeoutDefaultS: Math.min(limits.timeoutDefaultS, timeoutMaxS),
    memoryMaxMb,
    memoryDefaultMb: Math.min(limits.memoryDefaultMb, memoryMaxMb),
    vcpusMax: Math.min(limits.vcpusMax, shares.anonymous.maxVcpus),
    // The error for a request over a cap names the setting that set it.
    limitSettings: {
      ...limits.limitSettings,
      ...(timeoutMaxS < limits.timeoutMaxS ? { timeout: "ANON_MAX_TIMEOUT_S" } : {}),
      ...(memoryMaxMb < limits.memoryMaxMb ? { memory: "ANON_MAX_MEMORY_MB" } : {}),
      ...(shares.anonymous.maxVcpus < limits.vcpusMax ? { vcpus: "ANON_MAX_VCPUS" } : {}),
    },
  };
}

/**
 * Past the owner's queued-runs limit → 429 whose Retry-After is when the owner's soonest running run must end.
 * Every run passes it in enqueueRun (enqueue-run.ts); creating a sandbox checks it too. Call it right before
 * the insert, under the admission lock (admission-lock.ts).
 */
export async function assertOwnerShare(db: SandpitDb, shares: FairShareSettings, owner: RunOwner, now = Date.now()): Promise<void> {
  const limits = shareLimitsFor(shares, owner);
  const [waiting] = await db
    .select({ n: count() })
    .from(runs)
    .where(and(eq(runs.status, "queued"), eq(runs.ownerKey, owner.key)));
  const queued = waiting?.n ?? 0;
  if (queued < limits.maxQueued) return;
  const [running] = await db
    .select({ at: min(sql<number>`${runs.claimedAt} + ${runs.timeoutMs}`) })
    .from(runs)
    .where(and(eq(runs.status, "running"), eq(runs.ownerKey, owner.key)));
  const soonestEnd = running?.at;
  const endsAt = soonestEnd == null ? now + RETRY_AFTER_MAX_S * 1000 : Number(soonestEnd);
  const retryAfterS = Math.min(RETRY_AFTER_MAX_S, Math.max(RETRY_AFTER_MIN_S, Math.ceil((endsAt - now) / 1000)));
  const who = owner.anonymous ? "anonymous clients (ANON_MAX_QUEUED)" : "an API token (OWNER_MAX_QUEUED)";
  throw new SandpitError(
    "rate_limited",
    `you have ${queued} runs waiting, the queued-runs limit for ${who} is ${limits.maxQueued}: try again in ${retryAfterS} s`,
    {
      retryAfterS,
    },
  );
}
