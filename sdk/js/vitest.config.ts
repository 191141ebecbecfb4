import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["tests/**/*.test.ts"],
    // The live tests start a real Sandpit and real containers on a small machine: one file at a time.
    fileParallelism: false,
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
