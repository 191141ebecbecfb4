/** One error vocabulary for the domain, mapped to HTTP status in one place. */
export type ApiErrorCode = "validation" | "not_found" | "too_large" | "conflict" | "rate_limited" | "unauthorized" | "unavailable" | "method_not_allowed";

const statusByCode: Record<ApiErrorCode, number> = {
  validation: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
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
