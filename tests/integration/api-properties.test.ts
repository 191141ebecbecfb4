import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokens } from "../support/create-token";
import { startStack, type Stack } from "../support/stack";

/**
 * Property: whatever a client sends to any API endpoint (any JSON, wrong types, huge numbers, unicode,
 * prototype-pollution keys, odd ids and query strings, broken bodies), the answer is a 2xx, or a 4xx with a
 * JSON `error` message: never a 5xx, never a hang. Real HTTP against a real stack.
 */
const REQUEST_TIMEOUT_MS = 20_000;
// 150 cases per property keeps the file near 20 s; SANDPIT_FUZZ_RUNS=2000 hunts longer.
const NUM_RUNS = Number(process.env.SANDPIT_FUZZ_RUNS ?? 150);

const RUN_FIELDS = ["runtime", "code", "stdin", "timeout", "memory", "vcpus", "model"];
const SANDBOX_FIELDS = [
  "name",
  "runtime",
  "language",
  "code",
  "memory",
  "vcpus",
  "model",
  "timeout",
  "envVariables",
  "requirements",
  "denoFlags",
  "gpu",
  "files",
];
const SANDBOX_RUN_FIELDS = ["input", "command", "stdin", "timeout"];
const FILE_FIELDS = ["path", "content"];
const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty"];

/** A JSON value written as text, so it can hold what JSON.stringify never writes: 1e999, -0, 30-digit integers. */
type Json = { text: string };
const raw = (text: string): Json => ({ text });

const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom("1e999", "-1e999", "1e-999", "-0", "0", "0.1", "123456789012345678901234567890", "9007199254740993", "1e308", "-1", "300.0001", "1.5"),
);
const stringValue = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "python",
    "bash",
    "node",
    "deno",
    "go",
    "shell",
    "javascript",
    "typescript",
    "512MB",
    "1GB",
    "256Mi",
    "Qwen",
    "../..",
    "/etc/passwd",
    "a\u0000b",
    "\u202eevil",
    "",
    " ",
    "echo hi",
    "print(1)",
    "aGk=",
    "T4",
    "any",
  ),
);
const leaf = fc.oneof(
  numberText.map(raw),
  stringValue.map((value) => raw(JSON.stringify(value))),
  fc.constantFrom(raw("true"), raw("false"), raw("null")),
);

/** One of the endpoint's own field names, or any short string when it takes none. */
const fieldName = (keys: string[]) => (keys.length ? fc.constantFrom(...keys) : fc.string({ maxLength: 8 }));

function valueWithKeys(keys: string[]) {
  const key = fc.oneof({ weight: 4, arbitrary: fieldName(keys) }, fc.constantFrom(...POLLUTION_KEYS), fc.string({ unit: "binary", maxLength: 12 }));
  const tree = fc.letrec<{ value: Json }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.array(tie("value"), { maxLength: 4 }).map((items) => raw(`[${items.map((item) => item.text).join(",")}]`)),
      fc
        .array(fc.tuple(key, tie("value")), { maxLength: 6 })
        .map((entries) => raw(`{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value.text}`).join(",")}}`)),
    ),
  }));
  return tree.value;
}

/** A body close to valid (known field names with wild values), or any JSON at all, or something that is not JSON. */
function body(keys: string[]) {
  const objectOfFields = fc
    .array(fc.tuple(fc.oneof({ weight: 6, arbitrary: fieldName(keys) }, fc.constantFrom(...POLLUTION_KEYS)), valueWithKeys(keys)), { maxLength: 8 })
    .map((entries) => `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value.text}`).join(",")}}`);
  return fc.oneof(
    { weight: 5, arbitrary: objectOfFields },
    { weight: 2, arbitrary: valueWithKeys(keys).map((value) => value.text) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.constantFrom(
          "",
          " ",
          "{",
          "[1,",
          '{"a":}',
          "nul",
          "\u0000",
          "\ufeff{}",
          '{"__proto__":{"polluted":true}}',
          '{"constructor":{"prototype":{"polluted":true}}}',
        ),
        fc.integer({ min: 1_000, max: 200_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth)),
        fc.integer({ min: 1_000, max: 200_000 }).map((depth) => '{"input":' + '{"a":'.repeat(depth) + "1" + "}".repeat(depth) + "}"),
        fc.integer({ min: 1_000, max: 100_000 }).map((depth) => '{"envVariables":' + "[".repeat(depth) + "]".repeat(depth) + "}"),
      ),
    },
  );
}

/** Ids and path segments a client might put in a URL: unicode, traversal, bad percent-encoding, very long. */
const oddId = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom(
    "%",
    "%zz",
    "%E0%A4%A",
    "%00",
    "..",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "AAAAAAAAAAAAAAAAAAAAAA",
    "null",
    "undefined",
    "__proto__",
    "constructor",
    "%C0%AE",
    "%ff%fe",
  ),
  fc.integer({ min: 100, max: 6000 }).map((length) => "A".repeat(length)),
);
const oddQuery = fc.oneof(
  fc.constant(""),
  fc.constantFrom("?wait=1", "?wait=true", "?wait=0", "?wait=%zz", "?wait[]=1", "?wait=1&wait=2", "?__proto__[x]=1", "?%", "?wait=1#frag"),
  fc.string({ unit: "binary", maxLength: 30 }).map((text) => `?${encodeURIComponent(text)}=${encodeURIComponent(text)}`),
);
const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/vnd.api+json",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  undefined,
);

describe("API property tests (fast-check): any input gets a 2xx or a 4xx with a message", () => {
  let stack: Stack;
  let token: string;
  let sandboxId: string;
  const accepted: string[] = [];
  const seen = new Map<number, number>();

  beforeAll(async () => {
    stack = await startStack({
      containerRuntime: "runc",
      webEnv: {
        // Room for fuzzing without the budgets answering everything; the queue limit keeps accepted work small.
        API_RATE_LIMIT_BURST: "100000",
        TOKEN_RUNS_PER_MINUTE: "100000",
        TOKEN_LIVE_SANDBOXES: "1",
        MAX_QUEUED_RUNS: "10",
      },
    });
    [token] = await createTokens(stack.dataDir, ["fuzz"]);
    const created = await fetch(`${stack.baseUrl}/api/v1/sandboxes`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ runtime: "bash", code: "echo fuzz", timeout: 600 }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    // The token now holds its one live sandbox: any valid create the fuzzer finds is a quick 429, not a new container.
    sandboxId = (await created.json()).id;
  }, 180_000);

  afterAll(async () => {
    if (!stack) return;
    console.log(`fuzz: ${[...seen.values()].reduce((a, b) => a + b, 0)} requests, by status ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    await stack.stop();
  });

  /** Sends one request and checks the property; cancels any run it queued so fuzzing never piles up work. */
  async function check(method: string, path: string, options: { body?: string; contentType?: string; auth?: boolean } = {}) {
    const headers: Record<string, string> = {};
    if (options.contentType) headers["content-type"] = options.contentType;
    if (options.auth) headers.authorization = `Bearer ${token}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${stack.baseUrl}${path}`, { method, headers, body: options.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      text = await response.text();
    } catch (error) {
      throw new Error(`${method} ${path.slice(0, 200)} with ${options.body?.slice(0, 200)}: no answer (${(error as Error).message})`);
    }
    seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
    const where = `${method} ${path.slice(0, 200)} ${options.contentType ?? ""} ${options.body?.slice(0, 300) ?? ""} → ${response.status} ${text.slice(0, 300)}`;
    expect(response.status, where).toBeGreaterThanOrEqual(200);
    expect(response.status, where).toBeLessThan(500);
    expect(response.headers.get("content-type") ?? "(no content-type)", where).toMatch(/^application\/json\b/);
    const json = JSON.parse(text);
    if (response.status >= 400) {
      expect(typeof json.error, where).toBe("string");
      expect(json.error.length, where).toBeGreaterThan(0);
    }
    const runId = json?.runId ?? (path === "/api/v1/runs" && response.status === 201 ? json.id : undefined);
    if (typeof runId === "string") {
      accepted.push(runId);
      const cancel = await fetch(`${stack.baseUrl}/api/v1/runs/${runId}/cancel`, { method: "POST", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      expect(cancel.status).toBe(200);
    }
    return response.status;
  }

  const property = (name: string, arbitrary: fc.Arbitrary<() => Promise<unknown>>) =>
    it(
      name,
      async () => {
        await fc.assert(
          fc.asyncProperty(arbitrary, async (send) => {
            await send();
          }),
          { numRuns: NUM_RUNS, endOnFailure: true },
        );
      },
      120_000,
    );

  property(
    "POST /api/v1/runs",
    fc.tuple(body(RUN_FIELDS), contentType, fc.boolean()).map(
      ([text, type, auth]) =>
        () =>
          check("POST", "/api/v1/runs", { body: text, contentType: type, auth }),
    ),
  );

  property(
    "POST /api/v1/sandboxes",
    fc.tuple(body(SANDBOX_FIELDS), contentType, fc.boolean()).map(
      ([text, type, auth]) =>
        () =>
          check("POST", "/api/v1/sandboxes", { body: text, contentType: type, auth }),
    ),
  );

  property(
    "POST /api/v1/sandboxes/:id/runs (the live sandbox, or an odd id)",
    fc.tuple(body(SANDBOX_RUN_FIELDS), contentType, fc.option(oddId, { freq: 3 }), oddQuery).map(
      ([text, type, id, query]) =>
        () =>
          check("POST", `/api/v1/sandboxes/${id ?? sandboxId}/runs${query.replace("wait", "nowait")}`, { body: text, contentType: type, auth: true }),
    ),
  );

  property(
    "POST /api/v1/sandboxes/:id/files",
    fc.tuple(body(FILE_FIELDS), contentType, fc.option(oddId, { freq: 3 })).map(
      ([text, type, id]) =>
        () =>
          check("POST", `/api/v1/sandboxes/${id ?? sandboxId}/files`, { body: text, contentType: type, auth: true }),
    ),
  );

  property(
    "GET, DELETE and cancel with odd ids and query strings",
    fc
      .tuple(
        fc.constantFrom(
          ["GET", "/api/v1/runs/:id"],
          ["POST", "/api/v1/runs/:id/cancel"],
          ["GET", "/api/v1/sandboxes/:id"],
          ["DELETE", "/api/v1/sandboxes/:id"],
          ["GET", "/api/v1/sandboxes/:sandbox/runs/:id"],
          ["GET", "/api/v1/me"],
          ["GET", "/api/v1/models"],
          ["GET", "/api/v1/openapi.json"],
        ),
        oddId,
        oddQuery,
        fc.boolean(),
        fc.option(body([]), { freq: 4 }),
      )
      .map(([[method, template], id, query, auth, text]) => () => {
        const path = template.replace(":sandbox", sandboxId).replace(":id", id) + query;
        return check(method, path, { auth, body: method === "GET" ? undefined : (text ?? undefined), contentType: text ? "application/json" : undefined });
      }),
  );

  // Found by the property above (CI seed -766134800): JSON.parse took it, JSON.stringify then overflowed the stack.
  it("answers 400 to JSON nested deeper than the limit, at every endpoint that takes a body, and takes 63", async () => {
    const deep = (depth: number) => '{"input":' + '{"a":'.repeat(depth) + "1" + "}".repeat(depth) + "}";
    for (const path of ["/api/v1/runs", "/api/v1/sandboxes", `/api/v1/sandboxes/${sandboxId}/runs`, `/api/v1/sandboxes/${sandboxId}/files`]) {
      for (const depth of [64, 5_000]) {
        // + the outer object: 65 levels and more
        const response = await fetch(`${stack.baseUrl}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: deep(depth),
        });
        const json = await response.json();
        expect(response.status, `${path} depth ${depth}: ${JSON.stringify(json)}`).toBe(400);
        expect(json.error).toMatch(/nests arrays and objects more than 64 levels/);
      }
    }
    const justUnder = await fetch(`${stack.baseUrl}/api/v1/sandboxes/${sandboxId}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: '{"input":' + '{"a":'.repeat(62) + "1" + "}".repeat(62) + "}",
    });
    expect(justUnder.status, await justUnder.clone().text()).toBe(201);
    const queued = await justUnder.json();
    await fetch(`${stack.baseUrl}/api/v1/runs/${queued.runId ?? queued.id}/cancel`, { method: "POST" });
  });

  it("left nothing behind: the server logged no unexpected error, the fuzzed runs ended, the sandbox still works", async () => {
    expect(stack.logs()).not.toMatch(/\[api\] unexpected error/);
    for (const id of accepted) {
      const run = await (await fetch(`${stack.baseUrl}/api/v1/runs/${id}?wait=1`, { signal: AbortSignal.timeout(60_000) })).json();
      expect(["cancelled", "succeeded", "failed", "timed_out", "error"], `${id}: ${run.status}`).toContain(run.status);
    }
    const run = await fetch(`${stack.baseUrl}/api/v1/sandboxes/${sandboxId}/runs?wait=1`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(run.status).toBe(201);
    expect(await run.json()).toMatchObject({ stdout: "fuzz\n" });
  }, 120_000);
});
