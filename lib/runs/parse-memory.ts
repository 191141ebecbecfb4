const unitToMb: Record<string, number> = {
  "": 1,
  m: 1,
  mb: 1,
  mi: 1,
  mib: 1,
  g: 1024,
  gb: 1024,
  gi: 1024,
  gib: 1024,
};

/** Longer memory texts are refused before they are read: "1024.5 GiB" is ten characters. */
export const MAX_MEMORY_TEXT_CHARS = 32;

const isSpace = (char: string) => char === " " || char === "\t" || char === "\n" || char === "\r" || char === "\f" || char === "\v";
const isDigit = (char: string) => char >= "0" && char <= "9";
const isLetter = (char: string) => (char >= "a" && char <= "z") || (char >= "A" && char <= "Z");

/**
 * Parses "512MB", "1GB", "256Mi", "2Gi" or a number of MB into whole MB.
 * MB and MiB are treated alike: containers are sized in binary units, and users mean "that much RAM".
 * One left-to-right pass over at most MAX_MEMORY_TEXT_CHARS characters (no regular expression: client input).
 */
export function parseMemoryMb(input: string | number): number | null {
  if (typeof input === "number") return Number.isFinite(input) && input > 0 ? Math.round(input) : null;
  if (input.length > MAX_MEMORY_TEXT_CHARS) return null;
  let at = 0;
  const skipSpaces = () => {
    while (at < input.length && isSpace(input[at])) at++;
  };
  const take = (accept: (char: string) => boolean) => {
    const start = at;
    while (at < input.length && accept(input[at])) at++;
    return input.slice(start, at);
  };
  skipSpaces();
  let number = take(isDigit);
  if (!number) return null;
  if (input[at] === ".") {
    at++;
    const fraction = take(isDigit);
    if (!fraction) return null;
    number += `.${fraction}`;
  }
  skipSpaces();
  const unit = take(isLetter);
  skipSpaces();
  if (at !== input.length) return null;
  const factor = unitToMb[unit.toLowerCase()];
  if (factor === undefined) return null;
  const mb = Math.round(Number(number) * factor);
  return mb > 0 ? mb : null;
}
