"use client";

/** The browser's own list of its recent runs (localStorage): nothing about them is kept server-side per user. */
export type RecentRun = { id: string; runtime: string; title: string; at: number };

const KEY = "sandpit:recent-runs";
const MAX = 20;
const listeners = new Set<() => void>();
let cached: { raw: string | null; runs: RecentRun[] } = { raw: null, runs: [] };

export function readRecentRuns(): RecentRun[] {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === cached.raw) return cached.runs;
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    const runs = Array.isArray(parsed)
      ? parsed.filter((run): run is RecentRun => typeof run?.id === "string" && typeof run?.runtime === "string").slice(0, MAX)
      : [];
    cached = { raw, runs };
    return runs;
  } catch {
    return cached.runs;
  }
}

export function rememberRun(run: RecentRun): void {
  const runs = [run, ...readRecentRuns().filter((other) => other.id !== run.id)].slice(0, MAX);
  try {
    localStorage.setItem(KEY, JSON.stringify(runs));
  } catch {
    // Storage full or disabled: the list is a convenience.
  }
  listeners.forEach((listener) => listener());
}

export function clearRecentRuns(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {}
  listeners.forEach((listener) => listener());
}

export function subscribeRecentRuns(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => event.key === KEY && listener();
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

/** A short title for a run: its first meaningful line of code. */
export function titleForCode(code: string): string {
  const line = code.split("\n").find((candidate) => candidate.trim() && !/^\s*(#|\/\/|package |import )/.test(candidate)) ?? code.split("\n")[0] ?? "";
  return line.trim().slice(0, 80) || "(empty)";
}
