/**
 * Quick A/B for the warm pool under sustained load: one test stack per container runtime, then clients that
 * each send the next Python hello as soon as the last one answers (POST /api/v1/runs + GET ?wait=1).
 * Prints p50/p95/max, warm share and runs per second, with the host's load average at the time.
 *   npx tsx bench/unpaced-loop.ts [runs=30] [concurrency=1] [runc,runsc]
 * Worker settings to compare go in LOOP_WORKER_ENV, e.g. LOOP_WORKER_ENV=POOL_MAX=8,POOL_FILL_CONCURRENCY=4.
 */
import { loadavg } from "node:os";
import { runToEnd } from "../tests/support/api-client";
import { startStack, type ContainerRuntime } from "../tests/support/stack";

const runs = Number(process.argv[2] ?? 30);
const concurrency = Number(process.argv[3] ?? 1);
const runtimes = (process.argv[4] ?? "runc,runsc").split(",") as ContainerRuntime[];
const workerEnv = Object.fromEntries(
  (process.env.LOOP_WORKER_ENV ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => pair.split("=", 2) as [string, string]),
);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main() {
  for (const containerRuntime of runtimes) {
    const stack = await startStack({ containerRuntime, workerEnv });
    try {
      // Let the pool fill, as after any quiet spell.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const latencies: number[] = [];
      let warm = 0;
      let sequence = "";
      let next = 0;
      const load = loadavg()[0];
      const startedAt = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next++ < runs) {
            const t = performance.now();
            const run = (await runToEnd(stack.baseUrl, { runtime: "python", code: "print('hello')" })) as { status: string; stdout: string; warm?: boolean };
            if (run.status !== "succeeded" || run.stdout !== "hello\n") throw new Error(`run failed: ${JSON.stringify(run).slice(0, 300)}`);
            latencies.push(performance.now() - t);
            if (run.warm) warm++;
            sequence += run.warm ? "w" : "C";
          }
        }),
      );
      const seconds = (performance.now() - startedAt) / 1000;
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        `${containerRuntime} ${process.env.LOOP_WORKER_ENV ?? "defaults"} c=${concurrency} n=${runs}: p50 ${percentile(sorted, 50).toFixed(0)} ms, p95 ${percentile(sorted, 95).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms, ` +
          `${(runs / seconds).toFixed(2)} runs/s, warm ${Math.round((100 * warm) / runs)}%, load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)}\n  ${sequence} (w warm, C cold, in order)`,
      );
    } finally {
      await stack.stop();
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
