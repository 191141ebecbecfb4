import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../support/create-token";
import { callServerAction } from "../support/server-action";
import { startStack, type Stack } from "../support/stack";

/**
 * Every field of every endpoint and server action gets about a megabyte of hostile text (long runs of spaces,
 * repeated separators, nested brackets): each answer is a 4xx within 100 ms, and a plain request sent at the
 * same moment is answered within 100 ms too (nothing blocks the web process). The fields come from the
 * OpenAPI document and the build's server-action manifest, so a new field or action cannot be left out.
 */

const LIMIT_MS = 100;

/**
 * Runs a timed exchange up to three times and keeps the fastest. A parser that backtracks is slow every time on
 * the same input; a pause of this 2-core test machine (another process, a garbage collection) is not.
 */
async function fastestOf<T extends { ms: number; otherMs: number }>(exchange: () => Promise<T>): Promise<T> {
  let best = await exchange();
  for (let attempt = 1; attempt < 3 && Math.max(best.ms, best.otherMs) >= LIMIT_MS; attempt++) {
    const next = await exchange();
    if (Math.max(next.ms, next.otherMs) < Math.max(best.ms, best.otherMs)) best = next;
  }
  return best;
}
/** Under the 1 MiB body limit with the rest of the body around it. */
const SIZE = 900 * 1024;
/** `unit` repeated to `size` bytes as it travels in JSON (escaped characters count double). */
const fill = (unit: string, size = SIZE) => unit.repeat(Math.floor(size / (JSON.stringify(unit).length - 2)));

const ADVERSARIAL: Record<string, string> = {
  "a number, spaces, a bang": `1${fill(" ", SIZE - 2)}!`,
  spaces: fill(" "),
  "newlines and indents": fill("\n    "),
  commas: fill(","),
  "separators and comments": fill(",#\n"),
  "nested brackets": `${fill("[", SIZE / 2)}${fill("]", SIZE / 2)}`,
  "repeated requirement operators": fill("a==1!="),
  "repeated path parts": fill("../"),
  "flag with a long value": `--allow-read=${fill("a,")}`,
  "unit soup": `1${fill(".5GiB ")}`,
};
/**
 * Short values that made backtracking patterns blow up (exponentially, in a few dozen characters): these pass
 * the length caps, so they reach the parsers. Valid ones may be accepted; none may be slow or a 5xx.
 */
const PATHOLOGICAL: Record<string, string> = {
  "memory-like": `1${" ".repeat(30)}!`,
  "requirement with spaced operators": `a${"==1 ".repeat(40)}\u0001`,
  "requirement with chained operators": `a${"==1!=1".repeat(30)}#`,
  "requirement with spaced commas": `a==1${" , ".repeat(60)}\u0001`,
  "deno flag with a long list": `--allow-read=${"a,".repeat(100)}\u0001`,
  "nested brackets": `${"[".repeat(100)}${"]".repeat(100)}`,
  "model-like": `${"a.".repeat(50)}/${"b-".repeat(50)}/\u0001`,
  "path-like": `${"a/".repeat(100)}..\u0001`,
};

/** Path and query values travel in the request line: 8 KiB ones reach the app (bigger ones: see the last test). */
const IN_URL: Record<string, string> = {
  "8 KiB of spaces": fill(" ", 8 * 1024),
  "8 KiB of separators": fill("/,", 8 * 1024),
  "8 KiB of brackets": `${fill("[", 4096)}${fill("]", 4096)}`,
};

/**
 * Valid bodies of each request schema (one per runtime whose fields are checked differently: pip requirements
 * for python, npm for node, permission flags for deno); each field is replaced in turn.
 */
const BASE_BODIES: Record<string, Record<string, unknown>[]> = {
  RunRequest: [{ runtime: "bash", code: "true" }],
  SandboxRequest: [
    { runtime: "python", code: "print(1)" },
    { runtime: "node", code: "console.log(1)" },
    { runtime: "deno", code: "console.log(1)" },
  ],
  SandboxRunRequest: [{ command: "true" }],
  FileUpload: [{ path: "a.txt", content: "aGk=" }],
};

type Operation = {
  parameters?: { name: string; in: "path" | "query" }[];
  requestBody?: { content: { "application/json": { schema: { $ref: string } } } };
};
type OpenApi = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };

const root = path.resolve(import.meta.dirname, "../..");

describe("adversarial input to every field", () => {
  let stack: Stack;
  let token: string;
  let openapi: OpenApi;

  beforeAll(async () => {
    stack = await startStack({
      containerRuntime: "runc",
      // No worker: what validation accepts stays queued, and nothing else competes for the CPU being measured.
      workers: 0,
      // Rate limits would answer 429 before validation ever ran: out of the way here.
      webEnv: {
        API_RATE_LIMIT_BURST: "100000",
        // One live sandbox per token, held by the test (left "creating": no worker): a valid create is a quick 429.
        TOKEN_LIVE_SANDBOXES: "1",
        SANDBOX_PROVISION_TIMEOUT_S: "1",
        RUN_RATE_LIMIT_BURST: "100000",
        EMBED_RATE_LIMIT_BURST: "100000",
        TOKEN_RUNS_PER_MINUTE: "100000",
      },
    });
    token = createToken(stack.dataDir, "adversary");
    openapi = (await (await fetch(`${stack.baseUrl}/api/v1/openapi.json`)).json()) as OpenApi;
    const held = await fetch(`${stack.baseUrl}/api/v1/sandboxes`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ runtime: "bash", code: "true" }),
    });
    expect(held.status, await held.text()).toBe(503);
  }, 120_000);
  afterAll(async () => stack?.stop());

  const headers = () => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

  /** Sends one request and, at the same moment, a plain GET; both timed from the send. */
  async function timed(url: string, init: RequestInit): Promise<{ status: number; text: string; ms: number; otherMs: number; otherStatus: number }> {
    const started = performance.now();
    const hostile = fetch(url, { ...init, signal: AbortSignal.timeout(30_000) }).then(async (response) => ({
      status: response.status,
      text: await response.text(),
      ms: performance.now() - started,
    }));
    const other = fetch(`${stack.baseUrl}/api/v1/models`, { signal: AbortSignal.timeout(30_000) }).then(async (response) => {
      await response.arrayBuffer();
      return { otherStatus: response.status, otherMs: performance.now() - started };
    });
    const [a, b] = await Promise.all([hostile, other]);
    return { ...a, ...b };
  }

  function expectBounded(label: string, result: Awaited<ReturnType<typeof timed>>, value: string) {
    const where = `${label}: ${result.status} in ${result.ms.toFixed(1)} ms (concurrent GET ${result.otherMs.toFixed(1)} ms) ${result.text.slice(0, 300)}`;
    expect(result.status, where).toBeGreaterThanOrEqual(400);
    expect(result.status, where).toBeLessThan(500);
    expect(result.ms, where).toBeLessThan(LIMIT_MS);
    expect(result.otherStatus, where).toBe(200);
    expect(result.otherMs, where).toBeLessThan(LIMIT_MS);
    // The answer quotes at most 100 characters of what was sent.
    expect(result.text.length, where).toBeLessThan(2000);
    expect(result.text.includes(value.slice(0, 101)), where).toBe(false);
  }

  /** Every (method, path template) of the API, with a concrete URL for ids that do not exist. */
  function operations() {
    const list: { method: string; template: string; operation: Operation }[] = [];
    for (const [template, methods] of Object.entries(openapi.paths)) {
      for (const [method, operation] of Object.entries(methods)) list.push({ method: method.toUpperCase(), template, operation });
    }
    return list;
  }
  const concrete = (template: string, values: Record<string, string> = {}) =>
    template.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(values[name] ?? "AAAAAAAAAAAAAAAAAAAAAA"));

  it("finds the fields to attack in the API document", () => {
    const bodies = operations().filter((entry) => entry.operation.requestBody);
    expect(bodies.map((entry) => `${entry.method} ${entry.template}`).sort()).toEqual(
      ["POST /api/v1/runs", "POST /api/v1/sandboxes", "POST /api/v1/sandboxes/{id}/files", "POST /api/v1/sandboxes/{id}/runs"].sort(),
    );
    // Every request body schema (the answers' and the Socket.IO schemas live there too, but are not sent).
    for (const name of new Set(bodies.map((entry) => entry.operation.requestBody!.content["application/json"].schema.$ref.split("/").pop()!))) {
      expect(BASE_BODIES[name], `a valid base body for ${name}`).toBeDefined();
      expect(Object.keys(openapi.components.schemas[name].properties ?? {}).length, name).toBeGreaterThan(0);
    }
  });

  it("answers every body field's hostile value with a 4xx within 100 ms, while a concurrent GET is answered within 100 ms", async () => {
    let sent = 0;
    for (const { method, template, operation } of operations()) {
      const ref = operation.requestBody?.content["application/json"].schema.$ref;
      if (!ref) continue;
      const schemaName = ref.split("/").pop()!;
      const url = `${stack.baseUrl}${concrete(template)}`;
      // Warm the route up (a production server loads each route's code on first use): not what is measured.
      await fetch(url, { method, headers: headers(), body: "{}" }).then((response) => response.arrayBuffer());
      for (const field of Object.keys(openapi.components.schemas[schemaName].properties ?? {})) {
        for (const [kind, value] of Object.entries(ADVERSARIAL)) {
          for (const base of BASE_BODIES[schemaName]) {
            const body = JSON.stringify({ ...base, [field]: value });
            expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
            expectBounded(
              `${method} ${template} ${field} = ${kind} (${base.runtime ?? "-"})`,
              await fastestOf(() => timed(url, { method, headers: headers(), body })),
              value,
            );
            sent++;
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(100);
  }, 300_000);

  it("answers short pathological values, alone and in a list, in every body field within 100 ms and without a 5xx", async () => {
    let sent = 0;
    for (const { method, template, operation } of operations()) {
      const ref = operation.requestBody?.content["application/json"].schema.$ref;
      if (!ref) continue;
      const schemaName = ref.split("/").pop()!;
      const url = `${stack.baseUrl}${concrete(template)}`;
      for (const field of Object.keys(openapi.components.schemas[schemaName].properties ?? {})) {
        for (const [kind, value] of Object.entries(PATHOLOGICAL)) {
          for (const [base, form] of BASE_BODIES[schemaName].flatMap((base) => [value, [value], [value, value]].map((form) => [base, form] as const))) {
            const body = JSON.stringify({ ...base, [field]: form });
            const result = await fastestOf(() => timed(url, { method, headers: headers(), body }));
            const where = `${method} ${template} ${field} = ${kind}${Array.isArray(form) ? " (list)" : ""} (${base.runtime ?? "-"}): ${result.status} in ${result.ms.toFixed(1)} ms (concurrent ${result.otherMs.toFixed(1)} ms) ${result.text.slice(0, 300)}`;
            expect(result.status, where).toBeLessThan(500);
            expect(result.ms, where).toBeLessThan(LIMIT_MS);
            expect(result.otherMs, where).toBeLessThan(LIMIT_MS);
            sent++;
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(300);
  }, 300_000);

  it("answers hostile path and query parameters with a 4xx within 100 ms", async () => {
    let sent = 0;
    for (const { method, template, operation } of operations()) {
      for (const parameter of operation.parameters ?? []) {
        for (const [kind, value] of Object.entries(IN_URL)) {
          let url = `${stack.baseUrl}${concrete(template, parameter.in === "path" ? { [parameter.name]: value } : {})}`;
          if (parameter.in === "query") url += `?${parameter.name}=${encodeURIComponent(value)}`;
          const body = operation.requestBody
            ? JSON.stringify(BASE_BODIES[operation.requestBody.content["application/json"].schema.$ref.split("/").pop()!][0])
            : undefined;
          // A valid body, so the parameter is what is wrong (or the ids that do not exist: 404).
          expectBounded(`${method} ${template} ${parameter.name} = ${kind}`, await fastestOf(() => timed(url, { method, headers: headers(), body })), value);
          sent++;
        }
      }
    }
    expect(sent).toBeGreaterThan(20);

    // A megabyte in the request line never reaches the app: Node refuses it (431, or resets the connection
    // while the client is still writing), and the server goes on answering at once.
    const huge = `${stack.baseUrl}/api/v1/runs/${encodeURIComponent(fill(" ", 1024 * 1024))}`;
    const status = await fetch(huge).then(
      (response) => response.status,
      () => "reset",
    );
    expect([431, "reset"]).toContain(status);
    const started = performance.now();
    expect((await fetch(`${stack.baseUrl}/api/v1/models`)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(LIMIT_MS);
    // The download path parameter of GET /files is in the document as a query parameter.
    expect(JSON.stringify(openapi.paths["/api/v1/sandboxes/{id}/files"].get?.parameters)).toContain('"path"');
  }, 300_000);

  /** Each server action's arguments with one field replaced; every action in the build must be listed here. */
  const ACTION_FIELDS: Record<string, (value: string, schemas: OpenApi["components"]["schemas"]) => unknown[][]> = {
    createRunAction: (value, schemas) => [
      [{ source: value, request: BASE_BODIES.RunRequest[0] }],
      [{ source: "playground", request: value }],
      ...Object.keys(schemas.RunRequest.properties ?? {}).map((field) => [{ source: "embed", request: { ...BASE_BODIES.RunRequest[0], [field]: value } }]),
    ],
    cancelRunAction: (value) => [[value]],
  };

  it("refuses hostile values in every server action's fields within 100 ms", async () => {
    const manifest = JSON.parse(readFileSync(path.join(root, ".next/server/server-reference-manifest.json"), "utf8"));
    const actions = [...new Set(Object.values(manifest.node as Record<string, { exportedName: string }>).map((action) => action.exportedName))].sort();
    expect(actions).toEqual(Object.keys(ACTION_FIELDS).sort());
    let sent = 0;
    for (const action of actions) {
      await callServerAction(stack.baseUrl, action, ACTION_FIELDS[action]("warm-up", openapi.components.schemas)[0]);
      for (const [kind, value] of Object.entries(ADVERSARIAL)) {
        for (const args of ACTION_FIELDS[action](value, openapi.components.schemas)) {
          const { answer, ms, otherMs } = await fastestOf(async () => {
            const started = performance.now();
            const other = fetch(`${stack.baseUrl}/api/v1/models`).then(async (response) => {
              await response.arrayBuffer();
              return performance.now() - started;
            });
            const answered = callServerAction(stack.baseUrl, action, args).then((answer) => ({ answer, ms: performance.now() - started }));
            const [{ answer, ms }, otherMs] = await Promise.all([answered, other]);
            return { answer, ms, otherMs };
          });
          const where = `${action} ${JSON.stringify(args).slice(0, 80)} = ${kind}: ${answer.status} in ${ms.toFixed(1)} ms (concurrent ${otherMs.toFixed(1)} ms) ${answer.text.slice(0, 300)}`;
          // A server action answers 200 with its refusal as the value (or a 4xx from Next's own checks).
          if (answer.status === 200) expect(answer.result?.ok, where).toBe(false);
          else expect(answer.status >= 400 && answer.status < 500, where).toBe(true);
          expect(ms, where).toBeLessThan(LIMIT_MS);
          expect(otherMs, where).toBeLessThan(LIMIT_MS);
          expect(answer.text.length, where).toBeLessThan(2000);
          sent++;
        }
      }
    }
    expect(sent).toBeGreaterThan(50);

    // Over the body limit: refused unread with a 413, not Next's own 500.
    const overLimit = [fill(" ", 1100 * 1024)];
    const { over, ms } = await fastestOf(async () => {
      const started = performance.now();
      const over = await callServerAction(stack.baseUrl, "cancelRunAction", overLimit);
      return { over, ms: performance.now() - started, otherMs: 0 };
    });
    expect(over.status, over.text.slice(0, 200)).toBe(413);
    expect(ms).toBeLessThan(LIMIT_MS);
  }, 300_000);
});
