import type { SandpitError, SandpitErrorCode } from "@/lib/errors/sandpit-error";

/** The HTTP side of the error vocabulary (lib/errors/sandpit-error.ts): one status per code, in one place. */
const statusByCode: Record<SandpitErrorCode, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  insufficient_storage: 507,
};

export function httpStatusOf(code: SandpitErrorCode): number {
  return statusByCode[code];
}

/** `{error, code, field?}` with the code's status, and Retry-After (whole seconds, at least 1) when the error has one. */
export function apiErrorResponse(error: SandpitError): Response {
  const { field, retryAfterS } = error.details;
  const headers = retryAfterS !== undefined ? { "retry-after": String(Math.max(1, Math.ceil(retryAfterS))) } : undefined;
  return Response.json({ error: error.message, code: error.code, ...(field ? { field } : {}) }, { status: httpStatusOf(error.code), headers });
}
