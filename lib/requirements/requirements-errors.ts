import { ApiError } from "@/lib/http/api-error";

/** The installer refused the requirements (no such package, a build failed, a non-registry dependency): the caller's 400. */
export class RequirementsRejected extends Error {
  constructor(installerOutput: string) {
    // Only the install container's own output, and only its tail: what the caller needs to fix the set.
    super(installerOutput.trim().slice(-2000) || "the installer failed without output");
  }
}

/** The platform could not install (engine down, registry unreachable, out of disk): a 503 to retry. */
export class RequirementsUnavailable extends Error {}

/*
 * A sandbox's failure crosses from worker to web through its stored `error` text (the schema has no kind column).
 * These two functions are the one place that writes and reads that text's kind.
 */
const REJECTED_PREFIX = "requirements install failed: ";
const PLATFORM_PREFIX = "platform error: ";

/** The text the worker stores for a sandbox that failed to start. */
export function sandboxFailureText(error: unknown, describe: (error: unknown) => string): string {
  if (error instanceof RequirementsRejected) return REJECTED_PREFIX + error.message;
  return PLATFORM_PREFIX + describe(error);
}

/** The API error for a sandbox that failed to start: 400 on `requirements` when the installer refused, else 503. */
export function sandboxFailureApiError(storedError: string | null): ApiError {
  const message = storedError ?? "sandbox failed to start";
  if (message.startsWith(REJECTED_PREFIX)) return new ApiError("validation", message, { field: "requirements" });
  return new ApiError("unavailable", message);
}
