import { webConfig } from "@/lib/config/web-config";
import { ApiError } from "@/lib/http/api-error";
import { createTokenBucket, type TakeResult, type TokenBucket } from "./token-bucket";

/** Where a run request came from: the playground, embeds and anonymous API calls have separate budgets. */
export type RunSource = "playground" | "embed" | "api";

const globalKey = Symbol.for("sandpit.runRateLimits");
type GlobalWithLimits = typeof globalThis & { [globalKey]?: Record<RunSource, TokenBucket> };

function limiters(): Record<RunSource, TokenBucket> {
  const holder = globalThis as GlobalWithLimits;
  if (!holder[globalKey]) {
    const { rateLimits } = webConfig();
    holder[globalKey] = {
      playground: createTokenBucket(rateLimits.playground),
      embed: createTokenBucket(rateLimits.embed),
      api: createTokenBucket(rateLimits.api),
    };
  }
  return holder[globalKey];
}

/** Takes one run from the client's budget for that source. */
export function takeRunToken(source: RunSource, client: string): TakeResult {
  return limiters()[source].take(client);
}

export function rateLimitMessage(retryAfterS: number): string {
  return `Too many runs from your address: please wait ${retryAfterS} second${retryAfterS === 1 ? "" : "s"} and try again.`;
}

/** The API's form of a spent budget: a 429 with Retry-After. */
export function assertRunToken(source: RunSource, client: string): void {
  const limit = takeRunToken(source, client);
  if (!limit.ok) throw new ApiError("rate_limited", rateLimitMessage(limit.retryAfterS), { retryAfterS: limit.retryAfterS });
}
