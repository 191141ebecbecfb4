import { webConfig } from "@/lib/config/web-config";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { processSingleton } from "@/lib/os/process-singleton";
import { createTokenBucket, type TokenBucket } from "./token-bucket";

/** Where a run request came from: the playground, embeds and anonymous API calls have separate budgets. */
export type RunSource = "playground" | "embed" | "api";

function limiters(): Record<RunSource, TokenBucket> {
  return processSingleton("runRateLimits", () => {
    const { rateLimits } = webConfig();
    return {
      playground: createTokenBucket(rateLimits.playground),
      embed: createTokenBucket(rateLimits.embed),
      api: createTokenBucket(rateLimits.api),
    };
  });
}

function rateLimitMessage(retryAfterS: number): string {
  return `Too many runs from your address: please wait ${retryAfterS} second${retryAfterS === 1 ? "" : "s"} and try again.`;
}

/** Takes one run from the client's budget for that source; a spent budget is a `rate_limited` error with Retry-After. */
export function assertRunToken(source: RunSource, client: string): void {
  const limit = limiters()[source].take(client);
  if (!limit.ok) throw new SandpitError("rate_limited", rateLimitMessage(limit.retryAfterS), { retryAfterS: limit.retryAfterS });
}
