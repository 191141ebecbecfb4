import { abandonFailedTransaction } from "@/lib/db/open-database";
import { webDatabase } from "@/lib/db/web-database";
import { readAtMost } from "@/lib/streams/read-at-most";
import { ApiError, storageApiError } from "./api-error";
import { jsonNestingDepth } from "./json-nesting-depth";

/** Deeper bodies get a 400: real requests nest a few levels, and deeper ones overflow the stack later on. */
export const MAX_JSON_NESTING = 64;

/** Wraps a route handler: ApiErrors become their status with `{error}`, anything else a logged 500. */
export function handleApi<Args extends unknown[]>(handler: (...args: Args) => Promise<Response> | Response) {
  return async (...args: Args): Promise<Response> => {
    try {
      return await handler(...args);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

export function errorResponse(thrown: unknown): Response {
  const error = storageApiError(thrown) ?? thrown;
  if (error !== thrown) {
    console.error("[api] storage fault:", (thrown as Error).message);
    abandonFailedTransaction(webDatabase());
  }
  if (error instanceof ApiError) {
    const { field, retryAfterS } = error.details;
    const headers = retryAfterS !== undefined ? { "retry-after": String(Math.max(1, Math.ceil(retryAfterS))) } : undefined;
    return Response.json({ error: error.message, code: error.code, ...(field ? { field } : {}) }, { status: error.status, headers });
  }
  console.error("[api] unexpected error", error);
  return Response.json({ error: "internal error", code: "internal" }, { status: 500 });
}

/** Reads a JSON body, refusing bodies over the limit before buffering them whole. `optional`: an empty body is `{}`. */
export async function readJsonBody(request: Request, maxBytes: number, { optional = false } = {}): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new ApiError("too_large", `request body is over the ${maxBytes}-byte limit`);
  if (optional && declared === 0 && request.headers.has("content-length")) return {};
  const contentType = request.headers.get("content-type") ?? "";
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new ApiError("validation", "send the body as JSON with content-type: application/json");
  }
  if (!request.body) {
    if (optional) return {};
    throw new ApiError("validation", "request body is required");
  }
  const parts = await readAtMost(request.body, maxBytes);
  if (!parts) throw new ApiError("too_large", `request body is over the ${maxBytes}-byte limit`);
  const text = Buffer.concat(parts).toString("utf8");
  if (!text.trim()) {
    if (optional) return {};
    throw new ApiError("validation", "request body is required");
  }
  if (jsonNestingDepth(text) > MAX_JSON_NESTING) {
    throw new ApiError("validation", `request body nests arrays and objects more than ${MAX_JSON_NESTING} levels deep`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("validation", "request body is not valid JSON");
  }
}
