import { recognizeError } from "@/lib/errors/recognize-error";
import { SandpitError } from "@/lib/errors/sandpit-error";
import { readAtMost } from "@/lib/streams/read-at-most";
import { apiErrorResponse } from "./api-error";
import { jsonNestingDepth } from "./json-nesting-depth";

/** Deeper bodies get a 400: real requests nest a few levels, and deeper ones overflow the stack later on. */
export const MAX_JSON_NESTING = 64;

/** Wraps a route handler: SandpitErrors become their status with `{error, code}`, anything else a logged 500. */
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
  return apiErrorResponse(recognizeError(thrown, "api"));
}

/** Reads a JSON body, refusing bodies over the limit before buffering them whole. `optional`: an empty body is `{}`. */
export async function readJsonBody(request: Request, maxBytes: number, { optional = false } = {}): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new SandpitError("too_large", `request body is over the ${maxBytes}-byte limit`);
  if (optional && declared === 0 && request.headers.has("content-length")) return {};
  const contentType = request.headers.get("content-type") ?? "";
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new SandpitError("validation", "send the body as JSON with content-type: application/json");
  }
  if (!request.body) {
    if (optional) return {};
    throw new SandpitError("validation", "request body is required");
  }
  const parts = await readAtMost(request.body, maxBytes);
  if (!parts) throw new SandpitError("too_large", `request body is over the ${maxBytes}-byte limit`);
  const text = Buffer.concat(parts).toString("utf8");
  if (!text.trim()) {
    if (optional) return {};
    throw new SandpitError("validation", "request body is required");
  }
  if (jsonNestingDepth(text) > MAX_JSON_NESTING) {
    throw new SandpitError("validation", `request body nests arrays and objects more than ${MAX_JSON_NESTING} levels deep`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SandpitError("validation", "request body is not valid JSON");
  }
}
