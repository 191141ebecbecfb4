import type { RuntimeName } from "@/lib/runtimes/catalog";
import type { BenchContainerRuntime } from "./bench-config";
import { TIMED_PROGRAMS, type TimedProgram } from "./programs";
import type { Summary } from "./stats";

type PerRuntime<T> = Partial<Record<RuntimeName, T>>;

/** A run's path through the system, as its server-side timestamps divide it. */
export const STAGES = ["request→queued", "queued→code sent", "code sent→first output", "first output→finished", "finished→answer"] as const;
export type Stage = (typeof STAGES)[number];

export type ContainerRuntimeResults = {
  containerRuntime: BenchContainerRuntime;
  /** `runsc --version` and platform of the Docker runtime measured (gVisor only). */
  gvisor?: string;
  docker: PerRuntime<Summary>;
  cold: PerRuntime<Summary>;
  warmHttp: PerRuntime<Summary>;
  warmSdk: PerRuntime<Summary>;
  /** Share of warm-path runs (HTTP and SDK) that got a container from the pool. */
  warmHitRate: PerRuntime<number>;
  /** Where the time of a warm / cold HTTP run goes, per stage (server timestamps, ms resolution). */
  warmStages: PerRuntime<Record<string, Summary>>;
  coldStages: PerRuntime<Record<string, Summary>>;
  socketFirstByte?: Summary;
  warmPythonC2?: Summary & { hitRate: number };
  throughputPoolC1?: number;
  throughputPoolC2?: number;
  throughputDockerC1?: number;
  throughputDockerC2?: number;
  workerPeakRssMb?: number;
  /** Warm python hello from one client, unpaced: the next run is sent as soon as the last one answers. */
  unpaced?: Summary & { perSecond: number; hitRate: number };
  /** Back-to-back warm python hello from N clients at once (pool on), keyed by N. */
  sustainedPool?: Record<string, Summary & { perSecond: number; hitRate: number }>;
  /** Each timed program's own running time inside a warm sandbox (ms). */
  programs?: Partial<Record<TimedProgram, Summary>>;
  /** Engine API cost of one hardened container: create+start, and remove (force) of a running one. */
  containerCost?: { createStart: Summary; remove: Summary };
  /** The same back-to-back load against 1, 2, 3… workers sharing one database, keyed by the worker count. */
  workerScaling?: Record<string, Summary & { perSecond: number; hitRate: number }>;
};

export type Goal = { goal: string; measured: string; ratio: number; limit: string; met: boolean };

export type BenchResults = {
  startedAt: string;
  finishedAt: string;
  machine: string;
  runsPerMeasurement: number;
  bare: PerRuntime<Summary & { label: string }>;
  containerRuntimes: ContainerRuntimeResults[];
  goals: Goal[];
  /** Clients of the scale-out rows (ContainerRuntimeResults.workerScaling). */
  workerClients?: number;
};

const ms = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? "–" : value < 100 ? value.toFixed(1) : value.toFixed(0));
const pair = (summary: Summary | undefined) => (summary ? `${ms(summary.p50)} / ${ms(summary.p95)}` : "–");
const triple = (summary: Summary | undefined) => (summary ? `${ms(summary.p50)} / ${ms(summary.p95)} / ${ms(summary.p99)}` : "–");
const rate = (value: number | undefined) => (value === undefined ? "–" : value.toFixed(2));
const INTERPRETED: RuntimeName[] = ["python", "node", "deno"];

/** The issue's goals, each as a ratio of two numbers measured in this run. */
export function evaluateGoals(results: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const atMost = (goal: string, a: number | undefined, b: number | undefined, limit: number, what: string) => {
    if (a === undefined || b === undefined || !b) return;
    const ratio = a / b;
    goals.push({ goal, measured: what, ratio, limit: `≤ ${limit}`, met: ratio <= limit });
  };
  for (const r of results.containerRuntimes) {
    const cr = r.containerRuntime;
    for (const runtime of INTERPRETED) {
      const warm = r.warmHttp[runtime]?.p50;
      atMost(
        `${cr}: warm ${runtime} (HTTP) p50 vs bare ${runtime} on the host`,
        warm,
        results.bare[runtime]?.p50,
        1.5,
        `${ms(warm)} vs ${ms(results.bare[runtime]?.p50)} ms`,
      );
      atMost(`${cr}: warm ${runtime} (HTTP) p50 vs docker run --rm`, warm, r.docker[runtime]?.p50, 0.15, `${ms(warm)} vs ${ms(r.docker[runtime]?.p50)} ms`);
    }
    for (const runtime of Object.keys(r.cold) as RuntimeName[]) {
      atMost(
        `${cr}: cold ${runtime} (pool off) p50 vs docker run --rm`,
        r.cold[runtime]?.p50,
        r.docker[runtime]?.p50,
        1.1,
        `${ms(r.cold[runtime]?.p50)} vs ${ms(r.docker[runtime]?.p50)} ms`,
      );
    }
    if (r.throughputPoolC2 !== undefined && r.throughputDockerC2) {
      const ratio = r.throughputPoolC2 / r.throughputDockerC2;
      goals.push({
        goal: `${cr}: runs/s at concurrency 2, pool on vs docker run --rm`,
        measured: `${r.throughputPoolC2.toFixed(2)} vs ${r.throughputDockerC2.toFixed(2)} runs/s`,
        ratio,
        limit: "≥ 1",
        met: ratio >= 1,
      });
    }
    if (r.socketFirstByte) {
      const p50 = r.socketFirstByte.p50;
      goals.push({ goal: `${cr}: program write → Socket.IO client, p50`, measured: `${ms(p50)} ms`, ratio: p50 / 10, limit: "≤ 10 ms", met: p50 <= 10 });
    }
    atMost(
      `${cr}: warm python p95 at concurrency 2 vs p50 at concurrency 1`,
      r.warmPythonC2?.p95,
      r.warmHttp.python?.p50,
      2,
      `${ms(r.warmPythonC2?.p95)} vs ${ms(r.warmHttp.python?.p50)} ms`,
    );
  }
  goals.push(...sustainedLoadGoals(results, atMost));
  return goals;
}

type AtMost = (goal: string, a: number | undefined, b: number | undefined, limit: number, what: string) => void;

/** Issue 12's goals: the warm path under sustained load, and the current gVisor against runc. */
function sustainedLoadGoals(results: BenchResults, atMost: AtMost): Goal[] {
  const goals: Goal[] = [];
  const runc = results.containerRuntimes.find((r) => r.containerRuntime === "runc");
  const runsc = results.containerRuntimes.find((r) => r.containerRuntime === "runsc");
  for (const r of [runc, runsc]) {
    if (!r) continue;
    const paced = r.warmHttp.python?.p50;
    atMost(`${r.containerRuntime}: unpaced back-to-back python p95 vs paced warm p50`, r.unpaced?.p95, paced, 2, `${ms(r.unpaced?.p95)} vs ${ms(paced)} ms`);
  }
  if (runc) {
    const bare = results.bare.python?.p50;
    atMost(
      "runc: warm python (HTTP, paced) p50 vs bare python3 -c on the host",
      runc.warmHttp.python?.p50,
      bare,
      1.0,
      `${ms(runc.warmHttp.python?.p50)} vs ${ms(bare)} ms`,
    );
  }
  if (runc && runsc) {
    for (const runtime of INTERPRETED) {
      atMost(
        `runsc warm ${runtime} p50 vs runc warm p50`,
        runsc.warmHttp[runtime]?.p50,
        runc.warmHttp[runtime]?.p50,
        1.2,
        `${ms(runsc.warmHttp[runtime]?.p50)} vs ${ms(runc.warmHttp[runtime]?.p50)} ms`,
      );
    }
    for (const program of ["20k stat()", "20× fork+exec /bin/true"] as TimedProgram[]) {
      const a = runsc.programs?.[program]?.p50;
      const b = runc.programs?.[program]?.p50;
      atMost(`runsc ${program} p50 vs runc`, a, b, 1.5, `${ms(a)} vs ${ms(b)} ms`);
    }
  }
  const c2 = runsc?.sustainedPool?.["2"]?.perSecond;
  if (runsc && c2 !== undefined && runsc.throughputDockerC2) {
    const ratio = c2 / runsc.throughputDockerC2;
    goals.push({
      goal: "runsc: runs/s at concurrency 2 (back to back) vs docker run --rm",
      measured: `${rate(c2)} vs ${rate(runsc.throughputDockerC2)} runs/s`,
      ratio,
      limit: "≥ 2",
      met: ratio >= 2,
    });
  }
  return goals;
}

export function renderMarkdown(results: BenchResults): string {
  const lines: string[] = [];
  lines.push(
    `Measured ${results.startedAt.slice(0, 16).replace("T", " ")} UTC on ${results.machine}; ${results.runsPerMeasurement} runs per cell, hello-world programs.`,
  );
  lines.push("");
  lines.push("**Latency, ms (p50 / p95)**: wall time of one hello-world, from the request to its answer.");
  lines.push("");
  lines.push("| runtime | container runtime | bare on host | `docker run --rm` | cold, HTTP `?wait=1` | warm, HTTP `?wait=1` | warm, TS SDK | warm hits |");
  lines.push("|---|---|---|---|---|---|---|---|");
  for (const r of results.containerRuntimes) {
    for (const runtime of Object.keys(r.docker) as RuntimeName[]) {
      const hit = r.warmHitRate[runtime];
      lines.push(
        `| ${runtime} | ${r.containerRuntime} | ${pair(results.bare[runtime])} | ${pair(r.docker[runtime])} | ${pair(r.cold[runtime])} | ${pair(r.warmHttp[runtime])} | ${pair(r.warmSdk[runtime])} | ${hit === undefined ? "–" : `${Math.round(hit * 100)}%`} |`,
      );
    }
  }
  lines.push("");
  lines.push("**Streaming, load and memory**");
  lines.push("");
  lines.push(
    "| container runtime | write → Socket.IO client, ms (p50 / p95) | warm python at concurrency 2, ms (p50 / p95) | runs/s pool on, c=1 / c=2 | runs/s `docker run --rm`, c=1 / c=2 | worker peak RSS |",
  );
  lines.push("|---|---|---|---|---|---|");
  for (const r of results.containerRuntimes) {
    lines.push(
      `| ${r.containerRuntime} | ${pair(r.socketFirstByte)} | ${pair(r.warmPythonC2)} | ${rate(r.throughputPoolC1)} / ${rate(r.throughputPoolC2)} | ${rate(r.throughputDockerC1)} / ${rate(r.throughputDockerC2)} | ${r.workerPeakRssMb ? `${r.workerPeakRssMb.toFixed(0)} MB` : "–"} |`,
    );
  }
  lines.push("");
  lines.push("**Sustained load** (warm python hello, pool on, back to back; ms p50 / p95 / p99, runs/s, warm hits)");
  lines.push("");
  const levels = [...new Set(results.containerRuntimes.flatMap((r) => Object.keys(r.sustainedPool ?? {})))].sort((a, b) => Number(a) - Number(b));
  lines.push(`| container runtime | gVisor | paced c=1 | unpaced c=1 | ${levels.map((level) => `c=${level}`).join(" | ")} |`);
  lines.push(`|---|---|---|---|${levels.map(() => "---").join("|")}|`);
  const load = (summary: (Summary & { perSecond: number; hitRate: number }) | undefined) =>
    summary ? `${triple(summary)}, ${rate(summary.perSecond)}/s, ${Math.round(summary.hitRate * 100)}%` : "–";
  for (const r of results.containerRuntimes) {
    lines.push(
      `| ${r.containerRuntime} | ${r.gvisor ?? "–"} | ${triple(r.warmHttp.python)} | ${load(r.unpaced)} | ${levels.map((level) => load(r.sustainedPool?.[level])).join(" | ")} |`,
    );
  }
  lines.push("");
  lines.push("**Programs and containers** (ms p50 / p95: a program's own time inside a warm sandbox; Engine API cost per hardened container)");
  lines.push("");
  const programs = Object.keys(TIMED_PROGRAMS) as TimedProgram[];
  lines.push(`| container runtime | ${programs.join(" | ")} | create+start | remove (running, force) |`);
  lines.push(`|---|${programs.map(() => "---").join("|")}|---|---|`);
  for (const r of results.containerRuntimes) {
    lines.push(
      `| ${r.containerRuntime} | ${programs.map((program) => pair(r.programs?.[program])).join(" | ")} | ${pair(r.containerCost?.createStart)} | ${pair(r.containerCost?.remove)} |`,
    );
  }
  lines.push("");
  lines.push("**Where the time goes** (p50 per stage, ms, from the server's own timestamps at 1 ms resolution; warm / cold)");
  lines.push("");
  const stageNames = STAGES;
  lines.push(`| runtime | container runtime | ${stageNames.join(" | ")} |`);
  lines.push(`|---|---|${stageNames.map(() => "---").join("|")}|`);
  for (const r of results.containerRuntimes) {
    for (const runtime of Object.keys(r.warmStages) as RuntimeName[]) {
      const cells = stageNames.map((stage) => `${ms(r.warmStages[runtime]?.[stage]?.p50)} / ${ms(r.coldStages[runtime]?.[stage]?.p50)}`);
      lines.push(`| ${runtime} | ${r.containerRuntime} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("");
  lines.push(...renderWorkerScaling(results));
  lines.push("");
  lines.push("**Goals** (ratios of numbers measured above, in this run)");
  lines.push("");
  lines.push("| goal | measured | ratio | limit | |");
  lines.push("|---|---|---|---|---|");
  for (const goal of results.goals)
    lines.push(`| ${goal.goal} | ${goal.measured} | ${goal.ratio.toFixed(2)} | ${goal.limit} | ${goal.met ? "PASS" : "**MISS**"} |`);
  lines.push("");
  const bare = Object.entries(results.bare).map(([runtime, value]) => `${runtime}: ${value!.label}`);
  lines.push(`Bare interpreters: ${bare.join("; ")}.`);
  return lines.join("\n") + "\n";
}

/** The scale-out rows: runs/s with 1, 2, 3… workers on one database, same clients and programs (README "Benchmark"). */
export function renderWorkerScaling(results: Pick<BenchResults, "containerRuntimes" | "workerClients">): string[] {
  const measured = results.containerRuntimes.filter((r) => r.workerScaling);
  const counts = [...new Set(measured.flatMap((r) => Object.keys(r.workerScaling!)))].sort((a, b) => Number(a) - Number(b));
  if (!counts.length) return [];
  const cell = (summary: (Summary & { perSecond: number; hitRate: number }) | undefined) =>
    summary ? `**${rate(summary.perSecond)}/s**, ${pair(summary)} ms, ${Math.round(summary.hitRate * 100)}%` : "–";
  return [
    `**Throughput with ${counts.join(", ")} workers** (one database, each worker at its default concurrency; warm python hello from ${results.workerClients ?? "?"} clients, back to back, pool on; runs/s, latency p50 / p95, warm hits)`,
    "",
    `| container runtime | ${counts.map((count) => `${count} worker${count === "1" ? "" : "s"}`).join(" | ")} |`,
    `|---|${counts.map(() => "---").join("|")}|`,
    ...measured.map((r) => `| ${r.containerRuntime} | ${counts.map((count) => cell(r.workerScaling![count])).join(" | ")} |`),
  ];
}
