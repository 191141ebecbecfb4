/** One error vocabulary for the domain, mapped to HTTP status in one place. */
export type ApiErrorCode = "validation" | "not_found" | "too_large" | "conflict" | "rate_limited" | "unauthorized" | "unavailable" | "method_not_allowed" | "insufficient_storage" | "gone";

const statusByCode: Record<ApiErrorCode, number> = {
  validation: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  insufficient_storage: 507,
};

export type ApiErrorDetails = {
  /** The request field at fault (validation errors). */
  field?: string;
  /** Seconds to wait before trying again (rate limits). */
  retryAfterS?: number;
};

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: ApiErrorDetails = {},
  ) {
    super(message);
  }

  get status(): number {
    return statusByCode[this.code];
  }
}

/**
 * Storage faults are the server's, not the client's: a locked database (past its busy timeout) is a 503 to
 * retry, a full disk a 507. SQLite rolls the statement back in both cases, so nothing is half-written.
 */
export function storageApiError(error: unknown): ApiError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  if (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED" || code.startsWith("SQLITE_LOCKED_")) {
    return new ApiError("unavailable", "the database is busy; try again in a moment", { retryAfterS: 1 });
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "SQLITE_IOERR_WRITE") {
    return new ApiError("insufficient_storage", "the server is out of disk space; try again later", { retryAfterS: 30 });
  }
  return undefined;
}
