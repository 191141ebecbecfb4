/**
 * Typed errors. Every failure the SDK raises is a {@link SandpitError}; HTTP statuses map to
 * subclasses in one place ({@link errorFromResponse}). No name shadows a built-in (hence `SandpitTimeoutError`).
 */
export class SandpitError extends Error {
  /** HTTP status of the response that caused it, when there was one. */
  readonly status?: number;
  /** The server's machine-readable `code`, when there was one. */
  readonly code?: string;

  constructor(message: string, options: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.code = options.code;
  }
}

/** 401 / 403: missing, unknown or revoked API token. */
export class AuthError extends SandpitError {}

/** 404: the sandbox or run does not exist (or belongs to someone else). */
export class NotFoundError extends SandpitError {}

/** 400 (from the server) or a bad option caught before any request; `field` names the option. */
export class ValidationError extends SandpitError {
  readonly field?: string;
  constructor(message: string, options: { field?: string; status?: number; code?: string; cause?: unknown } = {}) {
    super(message, options);
    this.field = options.field;
  }
}

/** 409: the sandbox is not ready, already deleted, or expired. */
export class ConflictError extends SandpitError {}

/** 429: too many requests; `retryAfter` is the server's `Retry-After` in seconds (when given). */
export class RateLimitError extends SandpitError {
  readonly retryAfter?: number;
  constructor(message: string, options: { retryAfter?: number; status?: number; code?: string } = {}) {
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
  constructor(message: string, options: { kind: "run" | "client"; result?: unknown; status?: number; code?: string; cause?: unknown }) {
    super(message, options);
    this.kind = options.kind;
    this.result = options.result;
  }
}

type ErrorBody = { error?: unknown; code?: unknown; field?: unknown };

/** The one mapping from an HTTP error response to an SDK error. */
export function errorFromResponse(status: number, body: unknown, headers?: { get(name: string): string | null }): SandpitError {
  const parsed: ErrorBody = body && typeof body === "object" ? (body as ErrorBody) : {};
  const text = typeof body === "string" && body.trim() ? body.trim().slice(0, 500) : undefined;
  const message = typeof parsed.error === "string" ? parsed.error : text ?? `request failed with HTTP ${status}`;
  const code = typeof parsed.code === "string" ? parsed.code : undefined;
  const base = { status, code };
  switch (true) {
    case status === 400 || status === 422:
      return new ValidationError(message, { ...base, field: typeof parsed.field === "string" ? parsed.field : undefined });
    case status === 401 || status === 403:
      return new AuthError(message, base);
    case status === 404:
      return new NotFoundError(message, base);
    case status === 408 || status === 504:
      return new SandpitTimeoutError(message, { ...base, kind: "client" });
    case status === 409:
      return new ConflictError(message, base);
    case status === 429: {
      const header = headers?.get("retry-after");
      const seconds = header === null || header === undefined ? NaN : Number(header);
      return new RateLimitError(message, { ...base, retryAfter: Number.isFinite(seconds) ? seconds : undefined });
    }
    default:
      return new SandpitError(message, base);
  }
}
