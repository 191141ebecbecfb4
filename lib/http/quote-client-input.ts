/** Error messages quote at most this many characters of what a client sent. */
export const MAX_QUOTED_CHARS = 100;

/**
 * A client's value for an error message: a JSON-quoted string cut to MAX_QUOTED_CHARS (with how long it
 * really was), or a word for anything that is not a short scalar. Never echoes a megabyte back.
 */
export function quoteClientInput(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (typeof value !== "string") return Array.isArray(value) ? "a list" : `a value of type ${typeof value}`;
  if (value.length <= MAX_QUOTED_CHARS) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_QUOTED_CHARS))}… (${value.length} characters)`;
}
