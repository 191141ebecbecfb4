import type { z } from "zod";
import { recognizeError } from "@/lib/errors/recognize-error";
import { validationError, type SandpitError, type SandpitErrorCode } from "@/lib/errors/sandpit-error";

/**
 * A refused server action, as the page shows it: the message, the code (the API's `code`), the field at fault,
 * and for limits `rateLimited` with `retryAfterS` (what the API says with a 429 and Retry-After).
 */
export type ActionFailure = { ok: false; error: string; code: SandpitErrorCode; field?: string; rateLimited?: true; retryAfterS?: number };

export type ActionResult<T extends object> = ({ ok: true } & T) | ActionFailure;

/** The server-action side of the error vocabulary: one mapping, as lib/http/api-error.ts is for HTTP. */
export function actionFailure(error: SandpitError): ActionFailure {
  const { field, retryAfterS } = error.details;
  return {
    ok: false,
    error: error.message,
    code: error.code,
    ...(field ? { field } : {}),
    ...(error.code === "rate_limited" ? { rateLimited: true as const } : {}),
    ...(retryAfterS !== undefined ? { retryAfterS: Math.max(1, Math.ceil(retryAfterS)) } : {}),
  };
}

/**
 * The one wrapper every server action is made with (app/actions/): validates its argument with the schema,
 * runs the handler, and answers `{ok: true, ...value}` or an ActionFailure. Nothing a handler throws reaches
 * Next.js as an exception: the page always gets a value it can show.
 */
export function serverAction<Schema extends z.ZodType, T extends object>(schema: Schema, handler: (input: z.output<Schema>) => Promise<T> | T) {
  return async (input: unknown): Promise<ActionResult<T>> => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) return actionFailure(validationError(parsed.error));
    try {
      return { ok: true, ...(await handler(parsed.data)) };
    } catch (thrown) {
      return actionFailure(recognizeError(thrown, "action"));
    }
  };
}
