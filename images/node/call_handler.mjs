// Imports the sandbox's code (CommonJS or ESM), then calls its exported `handler(event, context)` if any;
// the result is written as JSON to $SANDPIT_RESPONSE_FILE for the worker to read.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const env = process.env;
const userModule = await import(pathToFileURL(process.argv[2]).href);
const handler = userModule.handler ?? userModule.default?.handler;
if (typeof handler === "function") {
  const raw = readFileSync(env.SANDPIT_EVENT_FILE, "utf8");
  const deadline = Number(env.SANDPIT_DEADLINE_MS ?? 0);
  const context = {
    sandboxId: env.SANDPIT_SANDBOX_ID ?? "",
    name: env.SANDPIT_SANDBOX_NAME ?? "",
    runId: env.SANDPIT_RUN_ID ?? "",
    get remainingTimeMs() {
      return Math.max(0, deadline - Date.now());
    },
    getRemainingTimeInMillis() {
      return Math.max(0, deadline - Date.now());
    },
  };
  const result = await handler(raw.trim() ? JSON.parse(raw) : null, context);
  writeFileSync(env.SANDPIT_RESPONSE_FILE, JSON.stringify(result ?? null));
}
