import { z } from "zod";
import type { FairShareSettings } from "@/lib/runs/check-owner-share";
import { positiveInt } from "./shared-settings";

/**
 * Fair shares (docs/security.md "Fair shares"), read by both processes: the web admits runs against the
 * queued limits and the anonymous request caps, the worker's claim holds owners to the running limits.
 */
export const fairShareEnvFields = {
  OWNER_MAX_QUEUED: positiveInt(100),
  OWNER_MAX_RUNNING: positiveInt(8),
  ANON_MAX_QUEUED: positiveInt(10),
  ANON_MAX_RUNNING: positiveInt(2),
  ANON_MAX_TIMEOUT_S: positiveInt(30),
  ANON_MAX_MEMORY_MB: positiveInt(512),
  ANON_MAX_VCPUS: z.coerce.number().positive().default(1),
};

type FairShareEnv = { [K in keyof typeof fairShareEnvFields]: z.infer<(typeof fairShareEnvFields)[K]> };

export function resolveFairShares(parsed: FairShareEnv): FairShareSettings {
  return {
    owner: { maxQueued: parsed.OWNER_MAX_QUEUED, maxRunning: parsed.OWNER_MAX_RUNNING },
    anonymous: {
      maxQueued: parsed.ANON_MAX_QUEUED,
      maxRunning: parsed.ANON_MAX_RUNNING,
      maxTimeoutS: parsed.ANON_MAX_TIMEOUT_S,
      maxMemoryMb: parsed.ANON_MAX_MEMORY_MB,
      maxVcpus: parsed.ANON_MAX_VCPUS,
    },
  };
}
