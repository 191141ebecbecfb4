import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { io as connectSocket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRun } from "../support/api-client";
import { createTokens } from "../support/create-token";
import { callServerAction } from "../support/server-action";
import { startStack, type Stack } from "../support/stack";
import { launchChromium, loopbackContext, watchPage, type TestBrowser } from "../browser/browser-support";

const FOREIGN = "http://127.0.0.2:4000";
const TERMINAL = new Set(["succeeded", "failed", "timed_out", "cancelled", "error"]);
/** Headers a client sends to pass itself off as someone else when nothing strips them. */
const spoofed = (n: number) => ({
  "x-forwarded-for": `203.0.113.${n}`,
  "x-real-ip": `203.0.113.${n}`,
  forwarded: `for=203.0.113.${n}`,
});

async function postRunAs(baseUrl: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}/api/v1/runs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

async function runToEndAs(baseUrl: string, token: string, body: unknown) {
  const created = await postRunAs(baseUrl, body, { authorization: `Bearer ${token}` });
  if (created.status !== 201) throw new Error(`POST run: ${created.status} ${JSON.stringify(created.json)}`);
  for (;;) {
    const run = await getRun(baseUrl, created.json.id, true);
    if (TERMINAL.has(run.status)) return run;
  }
}

function countRuns(stack: Stack): number {
  // The server's own database file (WAL: a reader sees every committed row).
  const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Socket.IO handshake over one transport with the given Origin; resolves "connected" or the refusal. */
function trySocket(baseUrl: string, transport: "polling" | "websocket", origin?: string): Promise<{ connected: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = connectSocket(baseUrl, {
      transports: [transport],
      reconnection: false,
      timeout: 10_000,
      extraHeaders: origin === undefined ? {} : { origin },
    });
    socket.on("connect", () => {
      socket.close();
      resolve({ connected: true });
    });
    socket.on("connect_error", (error) => {
      socket.close();
      resolve({ connected: false, error: error.message });
    });
  });
}

describe("web hardening", () => {
  let stack: Stack;
  let tokens: string[];
  let xssRunId: string;

  beforeAll(async () => {
    stack = await startStack({
      containerRuntime: "runc",
      webEnv: {
        RUN_RATE_LIMIT_BURST: "3",
        RUN_RATE_LIMIT_PER_MINUTE: "1",
        API_RATE_LIMIT_BURST: "3",
        API_RATE_LIMIT_PER_MINUTE: "1",
        TOKEN_RUNS_PER_MINUTE: "4",
      },
    });
    tokens = await createTokens(stack.dataDir, ["harden-main", "harden-quota-a", "harden-quota-b"]);
    const run = await runToEndAs(stack.baseUrl, tokens[0], {
      runtime: "bash",
      code: `printf '%s\\n' '<img src=x onerror="window.__pwned=1;alert(1)">' '<script>window.__pwned=2;alert(2)</script>' '<b>bold</b> &amp; "quotes"'`,
    });
    expect(run.status).toBe("succeeded");
    xssRunId = run.id;
  }, 180_000);
  afterAll(async () => stack?.stop());

  const pages = () => [`/`, `/r/${xssRunId}`, `/embed?runtime=bash&code=echo%20hi`, `/embed/${xssRunId}`, `/no-such-page`];

  it("sends a nonce-based Content-Security-Policy on every page, and every script carries the nonce", async () => {
    const nonces = new Set<string>();
    for (const page of pages()) {
      const response = await fetch(`${stack.baseUrl}${page}`);
      const csp = response.headers.get("content-security-policy");
      expect(csp, page).toBeTruthy();
      const directives = Object.fromEntries(
        csp!
          .split(";")
          .map((part) => part.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(directives["default-src"], page).toEqual(["'self'"]);
      expect(directives["object-src"], page).toEqual(["'none'"]);
      expect(directives["base-uri"], page).toEqual(["'self'"]);
      expect(directives["form-action"], page).toEqual(["'self'"]);
      const scriptSrc: string[] = directives["script-src"];
      expect(scriptSrc, page).toContain("'strict-dynamic'");
      expect(scriptSrc, page).not.toContain("'unsafe-inline'");
      expect(scriptSrc, page).not.toContain("'unsafe-eval'");
      const nonce = scriptSrc.find((value) => value.startsWith("'nonce-"))!.slice(7, -1);
      nonces.add(nonce);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const html = await response.text();
      const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
      expect(scripts.length, page).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag, page).toContain(`nonce="${nonce}"`);
    }
    // A fresh nonce for each response.
    expect(nonces.size).toBe(pages().length);
  });

  it("allows framing only on /embed routes", async () => {
    for (const page of pages()) {
      const headers = (await fetch(`${stack.baseUrl}${page}`)).headers;
      const csp = headers.get("content-security-policy")!;
      if (page.startsWith("/embed")) {
        expect(csp, page).toContain("frame-ancestors *");
        expect(headers.get("x-frame-options"), page).toBeNull();
      } else {
        expect(csp, page).toContain("frame-ancestors 'none'");
        expect(headers.get("x-frame-options"), page).toBe("DENY");
      }
    }
    // Paths that merely start with "embed" are not the widget.
    const lookalike = (await fetch(`${stack.baseUrl}/embedded`)).headers;
    expect(lookalike.get("x-frame-options")).toBe("DENY");
  });

  it("answers API requests with application/json", async () => {
    for (const [method, url] of [
      ["GET", `/api/v1/runs/${xssRunId}`],
      ["GET", "/api/v1/runs/AAAAAAAAAAAAAAAAAAAAAA"],
      ["GET", "/api/v1/models"],
      ["GET", "/api/v1/me"],
      ["POST", "/api/v1/runs"],
    ]) {
      // With a token: anonymous posts would spend the per-address budget tested below.
      const headers = { "content-type": "application/json", authorization: `Bearer ${tokens[0]}` };
      const response = await fetch(`${stack.baseUrl}${url}`, { method, headers, body: method === "POST" ? "{}" : undefined });
      expect(response.headers.get("content-type"), url).toMatch(/^application\/json\b/);
      expect(response.headers.get("x-content-type-options"), url).toBe("nosniff");
      await response.json();
    }
  });

  it("refuses server actions from another origin or Origin: null, and runs them from its own", async () => {
    const before = countRuns(stack);
    const request = [{ source: "playground", request: { runtime: "bash", code: "echo from-action" } }];
    for (const origin of [FOREIGN, "null", "https://evil.example", "not a url"]) {
      const refused = await callServerAction(stack.baseUrl, "createRunAction", request, { origin });
      expect(refused.status, origin).toBe(403);
      expect(refused.result, origin).toBeUndefined();
      expect(JSON.parse(refused.text).error).toMatch(/cross-origin request refused/);
      // A forwarded host cannot vouch for a foreign origin either.
      const forwarded = await callServerAction(stack.baseUrl, "createRunAction", request, { origin, "x-forwarded-host": origin.replace(/^\w+:\/\//, "") });
      expect(forwarded.status, origin).toBe(403);
    }
    const cancel = await callServerAction(stack.baseUrl, "cancelRunAction", [xssRunId], { origin: "null" });
    expect(cancel.status).toBe(403);
    expect(countRuns(stack)).toBe(before);

    // The same call from the site itself works (and is the one run it queued).
    const own = await callServerAction(stack.baseUrl, "createRunAction", request, { origin: stack.baseUrl });
    expect(own.status).toBe(200);
    expect(own.result).toMatchObject({ ok: true, id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    expect(countRuns(stack)).toBe(before + 1);
    expect((await getRun(stack.baseUrl, own.result.id, true)).stdout).toBe("from-action\n");
  });

  it("refuses cross-origin API writes, and accepts scripts that send no Origin", async () => {
    const foreign = await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, { origin: FOREIGN, authorization: `Bearer ${tokens[0]}` });
    expect(foreign.status).toBe(403);
    expect(foreign.json.error).toMatch(/cross-origin/);
    const cancel = await fetch(`${stack.baseUrl}/api/v1/runs/${xssRunId}/cancel`, { method: "POST", headers: { origin: "null" } });
    expect(cancel.status).toBe(403);
    const script = await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, { authorization: `Bearer ${tokens[0]}` });
    expect(script.status).toBe(201);
  });

  it.each(["polling", "websocket"] as const)("refuses Socket.IO handshakes from another origin or Origin: null (%s)", async (transport) => {
    for (const origin of [FOREIGN, "null", "https://evil.example"]) {
      const attempt = await trySocket(stack.baseUrl, transport, origin);
      expect(attempt.connected, `${origin} over ${transport}`).toBe(false);
    }
    expect((await trySocket(stack.baseUrl, transport, stack.baseUrl)).connected).toBe(true);
    expect((await trySocket(stack.baseUrl, transport)).connected).toBe(true);

    // And the same-origin socket really streams: the run's replay arrives.
    const socket = connectSocket(stack.baseUrl, { transports: [transport], reconnection: false, extraHeaders: { origin: stack.baseUrl } });
    try {
      const chunks: string[] = [];
      const ended = new Promise<void>((resolve) =>
        socket.on("run:event", (event: { type: string; data?: string }) => {
          if (event.type === "chunk") chunks.push(event.data!);
          if (event.type === "end") resolve();
        }),
      );
      const ack = await socket.timeout(10_000).emitWithAck("run:subscribe", { runId: xssRunId, afterSeq: -1 });
      expect(ack).toMatchObject({ ok: true, status: "succeeded" });
      await ended;
      expect(chunks.join("")).toContain("<script>window.__pwned=2;alert(2)</script>");
    } finally {
      socket.close();
    }
  });

  it("keys the playground limit on the socket address: spoofed forwarding headers do not buy more runs", async () => {
    const request = (n: number) => [{ source: "playground", request: { runtime: "bash", code: `echo spoof-${n}` } }];
    // The burst is 3 (one was already spent by the same-origin action above): four differently spoofed
    // calls would all pass if each spoofed address had its own budget.
    const results = [];
    for (const n of [1, 2, 3, 4])
      results.push((await callServerAction(stack.baseUrl, "createRunAction", request(n), { origin: stack.baseUrl, ...spoofed(n) })).result);
    expect(results.filter((result) => result.ok).length).toBeLessThanOrEqual(3);
    const refused = results.at(-1);
    expect(refused).toMatchObject({ ok: false, rateLimited: true, error: expect.stringMatching(/Too many runs from your address/) });
    expect(refused.retryAfterS).toBeGreaterThanOrEqual(1);
  });

  it("limits anonymous API runs per client address, whatever X-Forwarded-For says", async () => {
    const statuses = [];
    let last: Awaited<ReturnType<typeof postRunAs>> | undefined;
    for (const n of [11, 12, 13, 14]) {
      last = await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, spoofed(n));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect(last!.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(last!.json.error).toMatch(/Too many runs from your address/);
  });

  it("holds each API token to its own runs-per-minute quota", async () => {
    const [, tokenA, tokenB] = tokens;
    const statuses = [];
    let last: Awaited<ReturnType<typeof postRunAs>> | undefined;
    for (let n = 0; n < 5; n++) {
      last = await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, { authorization: `Bearer ${tokenA}`, ...spoofed(40 + n) });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
    expect(last!.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(last!.json.error).toMatch(/this token may start 4 runs per minute/);
    // Another token is not affected, and neither is the anonymous budget (spent above, still 429).
    expect((await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, { authorization: `Bearer ${tokenB}` })).status).toBe(201);
    // A bad token is a 401, never a free anonymous run.
    expect((await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, { authorization: "Bearer sp_not-a-token" })).status).toBe(401);
  });

  it("stores API tokens only as SHA-256 hashes", async () => {
    // Each token has been used, so its row was written after creation too.
    const files = ["sandpit.db", "sandpit.db-wal", "sandpit.db-shm"].map((name) => path.join(stack.dataDir, name)).filter(existsSync);
    const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    for (const token of tokens) {
      expect(token).toMatch(/^sp_[A-Za-z0-9_-]{43}$/);
      expect(bytes.includes(Buffer.from(token)), "raw token in the database").toBe(false);
      expect(bytes.includes(Buffer.from(token.slice(3))), "token body in the database").toBe(false);
      expect(bytes.includes(Buffer.from(createHash("sha256").update(token).digest("hex"))), "token hash in the database").toBe(true);
    }
    // Nor in the server's logs.
    for (const token of tokens) expect(stack.logs()).not.toContain(token.slice(3));
  });

  it("never interprets program output as HTML: share page and embed in Chromium", async () => {
    const chromium: TestBrowser = await launchChromium();
    try {
      const { context } = await loopbackContext(chromium.browser);
      for (const page of [`/r/${xssRunId}`, `/embed/${xssRunId}`]) {
        const tab = await context.newPage();
        const watched = watchPage(tab);
        await tab.goto(`${stack.baseUrl}${page}`);
        const output = tab.locator('[data-testid="output"]');
        await output.getByText("<script>window.__pwned=2;alert(2)</script>", { exact: false }).waitFor({ timeout: 30_000 });
        const text = (await output.innerText()).replace(/\u00a0/g, " ");
        expect(text, page).toContain('<img src=x onerror="window.__pwned=1;alert(1)">');
        expect(text, page).toContain('<b>bold</b> &amp; "quotes"');
        expect(await output.locator("img, script, b").count(), page).toBe(0);
        expect(await tab.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), page).toBeUndefined();
        expect(watched.dialogs, page).toEqual([]);
        await tab.close();
      }
      await context.close();
    } finally {
      await chromium.close();
    }
    // The server-rendered HTML carries the output escaped (text, RSC payload and meta tags alike).
    for (const page of [`/r/${xssRunId}`, `/embed/${xssRunId}`]) {
      const html = await (await fetch(`${stack.baseUrl}${page}`)).text();
      expect(html, page).not.toContain("<img src=x");
      expect(html, page).not.toContain("<script>window.__pwned");
    }
  }, 120_000);
});

describe("web hardening behind a trusted proxy (TRUST_PROXY=1)", () => {
  let stack: Stack;
  beforeAll(async () => {
    // No worker: runs stay queued, which is all these checks need.
    stack = await startStack({
      containerRuntime: "runc",
      workers: 0,
      webEnv: { TRUST_PROXY: "1", API_RATE_LIMIT_BURST: "3", API_RATE_LIMIT_PER_MINUTE: "1", MAX_QUEUED_RUNS: "10000" },
    });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it("believes the proxy's X-Forwarded-For: each forwarded client has its own budget", async () => {
    const statuses = [];
    for (const n of [1, 1, 1, 1, 2])
      statuses.push((await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, { "x-forwarded-for": `198.51.100.${n}` })).status);
    expect(statuses).toEqual([201, 201, 201, 429, 201]);
  });

  it("gives runs 128-bit random ids (share links): canonical base64url of 16 bytes, every bit unbiased", async () => {
    const count = 256;
    const ids: string[] = [];
    // Each request from its own forwarded address, so the per-client limit stays out of the way.
    for (let n = 0; n < count; n++) {
      const response = await postRunAs(stack.baseUrl, { runtime: "bash", code: "true" }, { "x-forwarded-for": `10.${n >> 8}.${n & 255}.7` });
      expect(response.status).toBe(201);
      ids.push(response.json.id);
    }
    expect(new Set(ids).size).toBe(count);
    const ones = new Array(128).fill(0);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const bytes = Buffer.from(id, "base64url");
      expect(bytes.length).toBe(16);
      expect(bytes.toString("base64url")).toBe(id);
      for (let bit = 0; bit < 128; bit++) ones[bit] += (bytes[bit >> 3] >> (bit & 7)) & 1;
    }
    // Each bit is set in about half the ids: 256 samples, mean 128, sd 8; ±5 sd fails by chance ~1e-4 of the time.
    for (const [bit, n] of ones.entries()) {
      expect(n, `bit ${bit}`).toBeGreaterThan(88);
      expect(n, `bit ${bit}`).toBeLessThan(168);
    }
  }, 120_000);
});
