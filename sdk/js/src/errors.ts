/**
 * Typed errors. Every failure the SDK raises is a {@link SandpitError} (also exported as `BuildfunctionsError`,
 * the published SDK's name); the server's error `code` (else the HTTP status) maps to subclasses in one place
 * ({@link errorFromResponse}). No name shadows a built-in (hence `SandpitTimeoutError`).
 */
export class SandpitError extends Error {
  /** HTTP status of the response that caused it, when there was one. */
  readonly status?: number;
  /** The server's machine-readable `code` (`validation`, `unavailable`, …), when there was one. */
  readonly code?: string;
  /** The server's whole JSON error body (`{error, code, field?, …}`), when there was one. */
  readonly details?: Record<string, unknown>;

  constructor(message: string, options: { status?: number; code?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
  }

  /** The published SDK's name for {@link SandpitError.status}. */
  get statusCode(): number | undefined {
    return this.status;
  }
}

/** 401 / 403: missing, unknown or revoked API token. Also exported as `AuthenticationError`. */
export class AuthError extends SandpitError {}

/** 503 (`unavailable`, `insufficient_storage`): the server cannot take it now, e.g. every GPU slot stayed busy. Retry later. */
export class CapacityError extends SandpitError {}

/** 404: the sandbox or run does not exist (or belongs to someone else). */
export class NotFoundError extends SandpitError {}

/** 400 (from the server) or a bad option caught before any request; `field` names the option. */
export class ValidationError extends SandpitError {
  readonly field?: string;
  constructor(message: string, options: { field?: string; status?: number; code?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options);
    this.field = options.field;
  }
}

/** 409: the sandbox is not ready, already deleted, or expired. */
export class ConflictError extends SandpitError {}

/** 429: too many requests; `retryAfter` is the server's `Retry-After` in seconds (when given). */
export class RateLimitError extends SandpitError {
  readonly retryAfter?: number;
  constructor(message: string, options: { retryAfter?: number; status?: number; code?: string; details?: Record<string, unknown> } = {}) {
    super(message, options);
    this.retryAfter = options.retryAfter;
  }
}

/**
 * Something took too long. `kind` says what:
 * - `"run"`: the run itself hit its time limit inside the sandbox (the run's state is `timed_out`);
 *   `result` holds what it printed before it was stopped.
 * - `"client"`: the SDK gave up waiting for the server (no answer within the request deadline).
 */
export class SandpitTimeoutError extends SandpitError {
  readonly kind: "run" | "client";
  readonly result?: unknown;
  constructor(
    message: string,
    options: { kind: "run" | "client"; result?: unknown; status?: number; code?: string; details?: Record<string, unknown>; cause?: unknown },
  ) {
    super(message, options);
    this.kind = options.kind;
    this.result = options.result;
  }
}

type ErrorBody = { error?: unknown; code?: unknown; field?: unknown };

/** The server's error codes (lib/errors/sandpit-error.ts) and the class each becomes; unknown codes fall back to the status. */
const CLASS_BY_CODE: Record<string, "validation" | "auth" | "notFound" | "conflict" | "rateLimit" | "capacity"> = {
  validation: "validation",
  unauthorized: "auth",
  forbidden: "auth",
  not_found: "notFound",
  gone: "conflict",
  conflict: "conflict",
  rate_limited: "rateLimit",
  unavailable: "capacity",
  insufficient_storage: "capacity",
};

function classByStatus(status: number): (typeof CLASS_BY_CODE)[string] | "timeout" | undefined {
  if (status === 400 || status === 422) return "validation";
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "notFound";
  if (status === 408 || status === 504) return "timeout";
  if (status === 409 || status === 410) return "conflict";
  if (status === 429) return "rateLimit";
  if (status === 503 || status === 507) return "capacity";
  return undefined;
}

/** The one mapping from an HTTP error response to an SDK error: by the body's `code`, else by the status. */
export function errorFromResponse(status: number, body: unknown, headers?: { get(name: string): string | null }): SandpitError {
  const parsed: ErrorBody = body && typeof body === "object" ? (body as ErrorBody) : {};
  const text = typeof body === "string" && body.trim() ? body.trim().slice(0, 500) : undefined;
  const message = typeof parsed.error === "string" ? parsed.error : (text ?? `request failed with HTTP ${status}`);
  const code = typeof parsed.code === "string" ? parsed.code : undefined;
  const details = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const base = { status, code, details };
  switch ((code !== undefined ? CLASS_BY_CODE[code] : undefined) ?? classByStatus(status)) {
    case "validation":
      return new ValidationError(message, { ...base, field: typeof parsed.field === "string" ? parsed.field : undefined });
    case "auth":
      return new AuthError(message, base);
    case "notFound":
      return new NotFoundError(message, base);
    case "timeout":
      return new SandpitTimeoutError(message, { ...base, kind: "client" });
    case "conflict":
      return new ConflictError(message, base);
    case "rateLimit": {
      const header = headers?.get("retry-after");
      const seconds = header === null || header === undefined ? NaN : Number(header);
      return new RateLimitError(message, { ...base, retryAfter: Number.isFinite(seconds) ? seconds : undefined });
    }
    case "capacity":
      return new CapacityError(message, base);
    default:
      return new SandpitError(message, base);
  }
}

/** The published SDK's names for the same classes, so its `catch` blocks and `instanceof` checks keep working. */
export { SandpitError as BuildfunctionsError, AuthError as AuthenticationError };
