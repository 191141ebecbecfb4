import type { z } from "zod";

/**
 * The one error vocabulary. Domain code throws a SandpitError where the fault is known; each boundary maps it
 * once: lib/http/api-error.ts to an HTTP status and body, lib/actions/action-client.ts to a server-action
 * result. The codes are part of the API contract (the SDKs turn them into exceptions): add, never rename.
 *
 * - the caller's fault: `validation` (with the field at fault), `unauthorized`, `forbidden`, `method_not_allowed`
 * - a limit: `too_large`, `rate_limited` (with retryAfterS)
 * - the thing asked for: `not_found`, `gone` (it existed and was deleted), `conflict` (not in a state that allows it)
 * - the platform's fault: `unavailable` (retry later), `insufficient_storage`, `internal` (a bug: logged)
 */
export type SandpitErrorCode =
  | "validation"
  | "unauthorized"
  | "forbidden"
  | "method_not_allowed"
  | "too_large"
  | "rate_limited"
  | "not_found"
  | "gone"
  | "conflict"
  | "unavailable"
  | "insufficient_storage"
  | "internal";

export type SandpitErrorDetails = {
  /** The request field at fault (validation errors). */
  field?: string;
  /** Seconds to wait before trying again (limits, platform faults that pass). */
  retryAfterS?: number;
};

export class SandpitError extends Error {
  constructor(
    readonly code: SandpitErrorCode,
    message: string,
    readonly details: SandpitErrorDetails = {},
  ) {
    super(message);
  }
}

/** Turns a zod failure into one readable sentence naming the fields. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") return `unknown field(s): ${issue.keys.join(", ")}`;
      const field = issue.path.join(".");
      return field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** The one way a schema failure becomes an error: every issue in the message, the first one's field in `field`. */
export function validationError(error: z.ZodError): SandpitError {
  const first = error.issues[0];
  const field = first?.code === "unrecognized_keys" ? first.keys[0] : String(first?.path[0] ?? "");
  return new SandpitError("validation", describeIssues(error), { field: field || undefined });
}

/** Parses client input with a schema, throwing the validation error on failure. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/**
 * Storage faults are the server's, not the client's: a locked database (past its busy timeout) or a PostgreSQL
 * server that is away (restarting, refusing connections, out of connections) is `unavailable` to retry, a full
 * disk `insufficient_storage`. Either database rolls the failed statement back, so nothing is half-written.
 * Undefined for anything else.
 */
export function storageFault(error: unknown): SandpitError | undefined {
  const cause = rootCause(error);
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED" || code.startsWith("SQLITE_LOCKED_")) {
      return new SandpitError("unavailable", "the database is busy; try again in a moment", { retryAfterS: 1 });
    }
    if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "SQLITE_IOERR_WRITE" || code === POSTGRES_DISK_FULL) {
      return new SandpitError("insufficient_storage", "the server is out of disk space; try again later", { retryAfterS: 30 });
    }
    if (POSTGRES_AWAY_CODES.has(code) || code.startsWith("08") || NETWORK_ERROR_CODES.has(code)) return databaseUnavailable();
  }
  // node-postgres reports a connection that broke, or none to be had in time, without a code.
  if (cause instanceof Error && POSTGRES_CONNECTION_MESSAGES.some((message) => cause.message.startsWith(message))) return databaseUnavailable();
  return undefined;
}

const databaseUnavailable = () => new SandpitError("unavailable", "the database is unavailable; try again in a moment", { retryAfterS: 2 });

/** SQLSTATEs of a server restarting or overloaded (class 08, connection exceptions, by prefix), and of one that gave up waiting. */
const POSTGRES_AWAY_CODES = new Set(["57P01", "57P02", "57P03", "53300", "53200", "40001", "40P01", "55P03", "57014"]);
const POSTGRES_DISK_FULL = "53100";
const NETWORK_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const POSTGRES_CONNECTION_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error",
  "Client was closed and is not queryable",
  "Query read timeout",
];

/**
 * The driver's own error under any wrappers (drizzle wraps PostgreSQL's in a DrizzleQueryError whose message
 * carries the query and its parameters: log the cause's, never the wrapper's).
 */
export function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error && current.cause !== undefined; depth++) current = current.cause;
  return current;
}
