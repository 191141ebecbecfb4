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

/**
 * Parses "512MB", "1GB", "256Mi", "2Gi" or a number of MB into whole MB.
 * MB and MiB are treated alike: containers are sized in binary units, and users mean "that much RAM".
 */
export function parseMemoryMb(input: string | number): number | null {
  if (typeof input === "number") return Number.isFinite(input) && input > 0 ? Math.round(input) : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!match) return null;
  const factor = unitToMb[match[2].toLowerCase()];
  if (factor === undefined) return null;
  const mb = Math.round(Number(match[1]) * factor);
  return mb > 0 ? mb : null;
}
