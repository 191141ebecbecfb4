// Imports /sandbox/main.ts, then calls its exported `handler(event, context)` if any;
// the result is written as JSON to $SANDPIT_RESPONSE_FILE for the worker to read.
const userModule = await import("file:///sandbox/main.ts");
const handler = userModule.handler ?? userModule.default?.handler;
if (typeof handler === "function") {
  const eventFile = "/tmp/.sandpit/event-" + runId() + ".json";
  const raw = await Deno.readTextFile(eventFile);
  const deadline = Number(deadlineMs());
  const context = {
    sandboxId: sandboxId(),
    name: sandboxName(),
    get remainingTimeMs() {
      return Math.max(0, deadline - Date.now());
    },
  };
  const result = await handler(raw.trim() ? JSON.parse(raw) : null, context);
  await Deno.writeTextFile("/tmp/.sandpit/response-" + runId() + ".json", JSON.stringify(result ?? null));
}

// Deno.env needs --allow-env, which the user may not grant: the worker passes these as arguments instead.
function runId(): string {
  return Deno.args[0] ?? "";
}
function deadlineMs(): string {
  return Deno.args[1] ?? "0";
}
function sandboxId(): string {
  return Deno.args[2] ?? "";
}
function sandboxName(): string {
  return Deno.args[3] ?? "";
}
