// Socket-level failures talking to the engine: the daemon crashed, restarted or its socket went away.
const CONNECTION_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT"]);

/**
 * The message a run or sandbox records for a platform-side failure. A bare "read ECONNRESET" tells a user
 * nothing, so a broken connection to the engine is named as such.
 */
export function describeEngineError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const connectionLost = (typeof code === "string" && CONNECTION_CODES.has(code)) || /^connect ENOENT /.test(message) || /socket hang up/i.test(message);
  return connectionLost && !/docker engine/i.test(message) ? `lost the connection to the Docker engine (${message})` : message;
}
