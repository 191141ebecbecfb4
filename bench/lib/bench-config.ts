import { z } from "zod";
import { runtimeCatalog, type RuntimeName } from "@/lib/runtimes/catalog";

const list = <T extends string>(values: readonly [T, ...T[]], fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text) =>
      text
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)).min(1));

/** The benchmark's one validated configuration (environment variables, all optional). */
const benchEnvSchema = z.object({
  BENCH_RUNS: z.coerce.number().int().min(10).default(100),
  BENCH_RUNTIMES: list(runtimeCatalog().names, runtimeCatalog().names.join(",")),
  // runsc is the current build setup registers; runsc-debian is Debian's 2022 build, for comparison.
  BENCH_CONTAINER_RUNTIMES: list(["runc", "runsc", "runsc-debian"], "runc,runsc,runsc-debian"),
  BENCH_THROUGHPUT_S: z.coerce.number().positive().default(15),
  /** Unpaced back-to-back warm runs from one client. */
  BENCH_UNPACED_RUNS: z.coerce.number().int().min(5).default(100),
  /** Runs of each syscall-heavy / CPU-bound program, and containers created and removed for the cost rows. */
  BENCH_PROGRAM_RUNS: z.coerce.number().int().min(3).default(20),
  /** Concurrency levels of the sustained-load rows (back to back, pool on). */
  BENCH_CONCURRENCY: z
    .string()
    .default("2,4")
    .transform((text) => text.split(",").map((item) => Number(item.trim())))
    .pipe(z.array(z.number().int().min(1).max(64)).min(1)),
  BENCH_UPDATE_README: z.enum(["0", "1"]).default("1"),
  /** Worker counts of the scale-out rows: one stack per count, the same clients and programs for each. */
  BENCH_WORKERS: z
    .string()
    .default("1,2,3")
    .transform((text) => text.split(",").map((item) => Number(item.trim())))
    .pipe(z.array(z.number().int().min(1).max(16)).min(1)),
  /** Back-to-back clients of the scale-out rows: enough to keep the largest worker count busy. */
  BENCH_WORKER_CLIENTS: z.coerce.number().int().min(1).max(64).default(6),
  /** `workers`: measure only the scale-out rows (written to bench/results/workers-latest.*; README untouched). */
  BENCH_ONLY: z.enum(["", "workers"]).default(""),
});

/** A Docker runtime the benchmark compares: runc, the current runsc, Debian's runsc. */
export type BenchContainerRuntime = "runc" | "runsc" | "runsc-debian";

export type BenchConfig = ReturnType<typeof loadBenchConfig>;

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = benchEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`Invalid bench configuration: ${parsed.error.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  const value = parsed.data;
  return {
    runs: value.BENCH_RUNS,
    runtimes: value.BENCH_RUNTIMES as RuntimeName[],
    containerRuntimes: value.BENCH_CONTAINER_RUNTIMES as BenchContainerRuntime[],
    throughputSeconds: value.BENCH_THROUGHPUT_S,
    unpacedRuns: value.BENCH_UNPACED_RUNS,
    programRuns: value.BENCH_PROGRAM_RUNS,
    concurrency: value.BENCH_CONCURRENCY,
    updateReadme: value.BENCH_UPDATE_README === "1" && value.BENCH_ONLY === "",
    workerCounts: value.BENCH_WORKERS,
    workerClients: value.BENCH_WORKER_CLIENTS,
    only: value.BENCH_ONLY,
    /** Passed to child processes (docker, interpreters) so they find their tools. */
    path: env.PATH ?? "/usr/bin:/bin",
    home: env.HOME ?? "/root",
  };
}
