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

/** What the worker stores for a sandbox that failed to start: its message, and whose fault it is (a column, not a text prefix). */
export function describeSandboxFailure(error: unknown, describe: (error: unknown) => string): { message: string; kind: "rejected" | "platform" } {
  if (error instanceof RequirementsRejected) return { message: `requirements install failed: ${error.message}`, kind: "rejected" };
  return { message: `platform error: ${describe(error)}`, kind: "platform" };
}

/** The API error for a sandbox that failed to start: 400 on `requirements` when the installer refused, else 503. */
export function sandboxFailureApiError(sandbox: { error: string | null; errorKind: "rejected" | "platform" | null }): ApiError {
  const message = sandbox.error ?? "sandbox failed to start";
  if (sandbox.errorKind === "rejected") return new ApiError("validation", message, { field: "requirements" });
  return new ApiError("unavailable", message);
}
