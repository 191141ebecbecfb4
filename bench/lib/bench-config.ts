import { z } from "zod";
import { RUNTIME_NAMES } from "@/lib/runtimes/catalog";

const list = <T extends string>(values: readonly [T, ...T[]], fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text) => text.split(",").map((item) => item.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values)).min(1));

/** The benchmark's one validated configuration (environment variables, all optional). */
const benchEnvSchema = z.object({
  BENCH_RUNS: z.coerce.number().int().min(10).default(100),
  BENCH_RUNTIMES: list(RUNTIME_NAMES as unknown as [string, ...string[]], RUNTIME_NAMES.join(",")),
  BENCH_CONTAINER_RUNTIMES: list(["runc", "runsc"], "runc,runsc"),
  BENCH_THROUGHPUT_S: z.coerce.number().positive().default(15),
  BENCH_UPDATE_README: z.enum(["0", "1"]).default("1"),
});

export type BenchConfig = ReturnType<typeof loadBenchConfig>;

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = benchEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`Invalid bench configuration: ${parsed.error.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  const value = parsed.data;
  return {
    runs: value.BENCH_RUNS,
    runtimes: value.BENCH_RUNTIMES as (typeof RUNTIME_NAMES)[number][],
    containerRuntimes: value.BENCH_CONTAINER_RUNTIMES as ("runc" | "runsc")[],
    throughputSeconds: value.BENCH_THROUGHPUT_S,
    updateReadme: value.BENCH_UPDATE_README === "1",
    /** Passed to child processes (docker, interpreters) so they find their tools. */
    path: env.PATH ?? "/usr/bin:/bin",
    home: env.HOME ?? "/root",
  };
}
