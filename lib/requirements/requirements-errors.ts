import { SandpitError } from "@/lib/errors/sandpit-error";

/** The installer refused the requirements (no such package, a build failed, a non-registry dependency): the caller's fault. */
export class RequirementsRejected extends SandpitError {
  constructor(installerOutput: string) {
    // Only the install container's own output, and only its tail: what the caller needs to fix the set.
    super("validation", installerOutput.trim().slice(-2000) || "the installer failed without output", { field: "requirements" });
  }
}

/** The platform could not install (engine down, registry unreachable, out of disk): to retry. */
export class RequirementsUnavailable extends SandpitError {
  constructor(message: string) {
    super("unavailable", message);
  }
}

/**
 * What the worker stores for a sandbox that failed to start: its message, and whose fault it is. The web process
 * reads it back from the row (another process), so the kind is a column (`error_kind`), never read from the text.
 */
export function describeSandboxFailure(error: unknown, describe: (error: unknown) => string): { message: string; kind: "rejected" | "platform" } {
  if (error instanceof RequirementsRejected) return { message: `requirements install failed: ${error.message}`, kind: "rejected" };
  return { message: `platform error: ${describe(error)}`, kind: "platform" };
}

/** The error for a sandbox that failed to start, from its row: a validation error on `requirements` when the installer refused, else unavailable. */
export function sandboxFailureError(sandbox: { error: string | null; errorKind: "rejected" | "platform" | null }): SandpitError {
  const message = sandbox.error ?? "sandbox failed to start";
  if (sandbox.errorKind === "rejected") return new SandpitError("validation", message, { field: "requirements" });
  return new SandpitError("unavailable", message);
}
