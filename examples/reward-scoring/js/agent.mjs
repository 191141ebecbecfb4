// Code generation with reward scoring, on Sandpit (the seed's Python agent, with the TypeScript SDK).
// A candidate `sort_list` (from Claude when ANTHROPIC_API_KEY is set and @anthropic-ai/sdk is installed,
// otherwise a fixed candidate, with no call to any model service) runs against unit tests inside a
// CPUSandbox, as a Python `handler` that returns the score.
//
//   cd examples/reward-scoring/js && npm install
//   SANDPIT_API_TOKEN=... SANDPIT_BASE_URL=http://localhost:3000 node agent.mjs
import { readFileSync } from "node:fs";
import { CPUSandbox, Sandpit } from "@sandpit/sdk"; // the seed: import { Buildfunctions, CPUSandbox } from "buildfunctions"

const API_TOKEN = process.env.SANDPIT_API_TOKEN || process.env.BUILDFUNCTIONS_API_TOKEN || "";
const BASE_URL = process.env.SANDPIT_BASE_URL || "http://localhost:3000";
const MODEL = process.env.ANTHROPIC_MODEL || "claude-opus-4-6";
// The same template as the Python agent; it is written for str.format, so undo the doubled braces.
const HANDLER_TEMPLATE = readFileSync(new URL("../python/reward_handler.py", import.meta.url), "utf8");

const PROMPT =
  "Write a Python function called `sort_list` that takes a list and returns it sorted. Handle edge cases like " +
  "empty lists, single elements, and mixed types. Return ONLY the code, no markdown, no explanations.";

const FIXED_CANDIDATE = `
def sort_list(items):
    """Returns a new sorted list; mixed types are ordered by type name, then value."""
    if not items:
        return []
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=lambda item: (type(item).__name__, repr(item) if not isinstance(item, (int, float, str)) else item))
`.trim();

/** Python's str.format for this template: fill the slot, then turn {{ and }} back into braces. */
function fillTemplate(template, generatedCode) {
  return template
    .split("{generated_code}")
    .map((part) => part.replaceAll("{{", "{").replaceAll("}}", "}"))
    .join(generatedCode);
}

const stripMarkdownFences = (text) =>
  text
    .trim()
    .replace(/^```[\w]*\n|```$/gm, "")
    .trim();

async function generateCandidate() {
  const key = process.env.ANTHROPIC_API_KEY;
  if (!key) {
    console.log("   ANTHROPIC_API_KEY not set: using the fixed candidate");
    return FIXED_CANDIDATE;
  }
  let Anthropic;
  try {
    ({ default: Anthropic } = await import("@anthropic-ai/sdk"));
  } catch {
    console.log("   @anthropic-ai/sdk is not installed (npm install @anthropic-ai/sdk): using the fixed candidate");
    return FIXED_CANDIDATE;
  }
  const claude = new Anthropic({ apiKey: key });
  const response = await claude.messages.create({ model: MODEL, max_tokens: 512, messages: [{ role: "user", content: PROMPT }] });
  return stripMarkdownFences(response.content[0].text);
}

async function main() {
  if (!API_TOKEN) {
    console.error("Set SANDPIT_API_TOKEN (create one with: npm run token -- create NAME)");
    process.exit(1);
  }
  console.log("Testing Code Generation with Reward Scoring...\n");
  let sandbox;
  try {
    console.log("1. Authenticating...");
    const client = await Sandpit({ apiToken: API_TOKEN, baseUrl: BASE_URL });
    console.log(`   Authenticated as: ${client.user.username}`);

    console.log("\n2. Generating sorting function...");
    const generatedCode = await generateCandidate();
    console.log(`   Generated code:\n${generatedCode}\n`);

    console.log("3. Creating CPU Sandbox with reward function...");
    sandbox = await CPUSandbox.create({
      name: `reward-eval-${Math.floor(Date.now() / 1000)}`,
      language: "python",
      code: fillTemplate(HANDLER_TEMPLATE, generatedCode),
      memory: "512MB",
      timeout: 30,
    });
    console.log(`   CPU Sandbox created: ${sandbox.name}`);

    console.log("\n4. Running reward function...");
    const result = await sandbox.run();
    let score = 0;
    if (result.status !== 200 || typeof result.response !== "object" || result.response === null) {
      console.log(`   The candidate did not load (status ${result.status}):\n${result.stderr.slice(-2000)}`);
    } else {
      score = Number(result.response.score);
      for (const test of result.response.results) {
        console.log(`   ${test.passed ? "PASS" : "FAIL"} ${test.name}${test.error ? ` (${test.error})` : ""}`);
      }
    }
    console.log(`   Result: ${JSON.stringify(result.response)}`);
    console.log(`\nscore: ${score.toFixed(2)}`);

    console.log("\n5. Deleting CPU Sandbox...");
    await sandbox.delete();
    sandbox = undefined;
    console.log("   CPU Sandbox deleted");
    console.log("\nCode generation with reward scoring test completed!");
  } finally {
    if (sandbox) await sandbox.delete().catch((error) => console.log(`Cleanup failed: ${error}`));
  }
}

await main();
