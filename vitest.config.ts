import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Files that measure the machine or need it quiet: attack tests compare the host's free disk, memory and process
 * count before and after; others bound latencies, CPU shares or throughput; two fault tests stop engines or fill a
 * disk (the web-restart one only checks what streaming clients receive, so it shares). They run one at a time,
 * after everything else.
 */
const ALONE = [
  "tests/integration/adversarial-*.test.ts",
  "tests/integration/bounded-waits.test.ts",
  "tests/integration/fair-shares.test.ts",
  "tests/integration/requirements.test.ts",
  "tests/integration/load.test.ts",
  "tests/integration/faults-docker.test.ts",
  "tests/integration/faults-storage.test.ts",
  "tests/integration/scale-out.test.ts",
];

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
    // Groups run in order: unit tests, then integration and browser files that tolerate a neighbour two at a time
    // (each starts its own private stack; two cores), then the files above alone.
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: "shared",
          include: ["tests/integration/**/*.test.ts", "tests/browser/**/*.test.ts"],
          exclude: ALONE,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      { extends: true, test: { name: "alone", include: ALONE, fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});
