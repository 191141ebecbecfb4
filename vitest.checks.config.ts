import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Checks that need more than `npm test` builds (scripts/model-check.sh: the GPU image, gigabytes): tests/checks/*.check.ts,
 * which the default config's include (`tests/**\/*.test.ts`) leaves out.
 */
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["tests/checks/**/*.check.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
    reporters: ["default"],
  },
});
