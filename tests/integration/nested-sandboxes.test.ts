/**
 * Nested sandboxes (README "Nested sandboxes"): a sandbox created with `nested` reaches the sandbox API, and
 * nothing else, through its channel; its token acts on its own descendants only, within its budget; a parent
 * takes its whole tree with it when it is deleted or expires. One stack per container runtime for the file.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokens } from "../support/create-token";
import { waitUntil } from "../support/docker-probe";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type ContainerRuntime, type Stack } from "../support/stack";

const EXAMPLE = path.resolve(import.meta.dirname, "../../examples/nested");

/**
 * The code of every Python sandbox here: sends the requests of its event through the channel (as the SDKs
 * do: HTTP to SANDPIT_API_URL) and, for `raw`, bytes straight to the relay; reports what came back and
 * what the sandbox can see of the channel.
 */
const PROBE = String.raw`
import json, os, socket, urllib.request, urllib.error

def send(request):
    data = None if request.get("body") is None else json.dumps(request["body"]).encode()
    url = os.environ["SANDPIT_API_URL"] + request["path"]
    req = urllib.request.Request(url, data=data, method=request["method"], headers={"content-type": "application/json", "authorization": "Bearer " + os.environ["SANDPIT_API_TOKEN"]})
    try:
        with urllib.request.urlopen(req, timeout=100) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return {"status": status, "body": json.loads(text)}
    except ValueError:
        return {"status": status, "body": text}

def raw(text):
    with socket.create_connection(("127.0.0.1", 7070), timeout=10) as conn:
        conn.sendall(text.encode())
        return conn.recv(200).decode(errors="replace").split("\r\n")[0]

def handler(event, context):
    event = event or {}
    relay_open = True
    try:
        socket.create_connection(("127.0.0.1", 7070), timeout=2).close()
    except OSError:
        relay_open = False
    return {
        "env": {key: value for key, value in os.environ.items() if key in ("SANDPIT_API_URL", "SANDPIT_API_TOKEN")},
        "channelMounted": os.path.exists("/run/sandpit-api"),
        "relayOpen": relay_open,
        "results": [send(request) for request in event.get("requests", [])],
        "raw": [raw(text) for text in event.get("raw", [])],
    }
`;

type Answer = { status: number; json: any };
type ProbeResult = { env: Record<string, string>; channelMounted: boolean; relayOpen: boolean; results: { status: number; body: any }[]; raw: string[] };

describe.each(CONTAINER_RUNTIMES)("nested sandboxes under %s", (containerRuntime: ContainerRuntime) => {
  let stack: Stack;
  let token: string;
  let otherToken: string;

  const api = async (method: string, route: string, body?: unknown, as = token): Promise<Answer> => {
    const response = await fetch(`${stack.baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${as}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  };
  const create = async (body: Record<string, unknown>, as = token) => {
    const created = await api("POST", "/api/v1/sandboxes", body, as);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    return created.json as { id: string; expiresAt: string };
  };
  const createProbe = (extra: Record<string, unknown> = {}, as = token) => create({ runtime: "python", code: PROBE, memory: 128, timeout: 120, ...extra }, as);
  /** Runs a probe sandbox's handler with `event` and returns what it saw. */
  const probe = async (sandboxId: string, event: Record<string, unknown> = {}): Promise<ProbeResult> => {
    const run = await api("POST", `/api/v1/sandboxes/${sandboxId}/runs?wait=1`, { input: event });
    expect(run.json?.status, JSON.stringify(run.json)).toBe(200);
    return run.json.response as ProbeResult;
  };
  /** The same, but the requests go out from `viaId`'s channel: that sandbox runs them. */
  const through = async (viaId: string, requests: { method: string; path: string; body?: unknown }[]) => (await probe(viaId, { requests })).results;
  const containersOf = (sandboxId: string) =>
    execFileSync("docker", ["ps", "-aq", "--filter", `label=sandpit.sandbox=${sandboxId}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  const statusOf = async (sandboxId: string) => (await api("GET", `/api/v1/sandboxes/${sandboxId}`)).json.status as string;

  beforeAll(async () => {
    // The example's parent holds a run slot while its three children run theirs (README: nested sandboxes and WORKER_CONCURRENCY).
    const workerEnv = { INSTANCE_ID: `nested-${containerRuntime}-${randomBytes(4).toString("hex")}`, WORKER_CONCURRENCY: "4" };
    stack = await startStack({ containerRuntime, workerEnv });
    [token, otherToken] = await createTokens(stack.dataDir, ["nested-owner", "nested-stranger"]);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("runs the example: a Node.js sandbox fans out three Python children and combines their responses", async () => {
    const parent = await create({
      runtime: "node",
      language: "javascript",
      code: readFileSync(path.join(EXAMPLE, "parent.js"), "utf8"),
      timeout: 120,
      nested: { maxChildren: 3, maxDepth: 1 },
    });
    const chunks = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ];
    const run = await api("POST", `/api/v1/sandboxes/${parent.id}/runs?wait=1`, {
      input: { childCode: readFileSync(path.join(EXAMPLE, "child.py"), "utf8"), chunks },
    });
    expect(run.json.status, JSON.stringify(run.json)).toBe(200);
    expect(run.json.response.workers).toBe(3);
    expect(run.json.response.total).toBe(45);
    expect(run.json.response.responses.map((response: { sum: number }) => response.sum)).toEqual([6, 15, 24]);
    expect((await api("DELETE", `/api/v1/sandboxes/${parent.id}`)).status).toBe(200);
  }, 180_000);

  it("a sandbox without nesting has no channel: no socket, no environment, nothing on the relay port", async () => {
    const plain = await createProbe();
    const seen = await probe(plain.id);
    expect(seen.env).toEqual({});
    expect(seen.channelMounted).toBe(false);
    expect(seen.relayOpen).toBe(false);
    await api("DELETE", `/api/v1/sandboxes/${plain.id}`);
  }, 120_000);

  it("the channel reaches the sandbox API alone, and the sandbox never holds a working token", async () => {
    const nested = await createProbe({ nested: { maxChildren: 1, maxDepth: 1 } });
    const seen = await probe(nested.id, {
      requests: [
        { method: "GET", path: "/api/v1/runs" },
        { method: "POST", path: "/api/v1/runs", body: { runtime: "python", code: "print(1)" } },
        { method: "GET", path: "/api/v1/health" },
        { method: "GET", path: "/api/v1/models" },
        { method: "GET", path: "/api/v1/me" },
        { method: "GET", path: "/api/v1/sandboxes/../runs" },
        { method: "GET", path: "/api/v1/sandboxes/%2e%2e/health" },
        { method: "PUT", path: `/api/v1/sandboxes/${nested.id}` },
        // Its own sandbox and its ancestors are outside "its descendants".
        { method: "GET", path: `/api/v1/sandboxes/${nested.id}` },
      ],
      raw: [
        `GET ${stack.baseUrl}/api/v1/health HTTP/1.1\r\nhost: x\r\n\r\n`,
        "CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: 127.0.0.1:22\r\n\r\n",
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
      ],
    });
    expect(seen.env.SANDPIT_API_URL).toBe("http://127.0.0.1:7070");
    expect(seen.env.SANDPIT_API_TOKEN).toBe("sandbox-channel"); // a placeholder: the channel adds the real token
    expect(seen.channelMounted).toBe(true);
    const statuses = seen.results.map((result) => result.status);
    expect(statuses.slice(0, 8), JSON.stringify(seen.results)).toEqual([403, 403, 403, 403, 403, 403, 403, 403]);
    expect(seen.results[0].body.error).toMatch(/sandbox API/);
    expect(statuses[8]).toBe(404);
    for (const line of seen.raw) expect(line).toMatch(/^HTTP\/1\.1 403/);
    await api("DELETE", `/api/v1/sandboxes/${nested.id}`);
  }, 120_000);

  it("a tree keeps to its budget, its depth and its parent's time, with errors naming the limit", async () => {
    const parent = await createProbe({ nested: { maxChildren: 4, maxDepth: 2, memory: 400, vcpus: 2.5 } });
    const child = (extra: Record<string, unknown>) => ({
      method: "POST",
      path: "/api/v1/sandboxes",
      body: { runtime: "python", code: PROBE, memory: 64, vcpus: 0.5, ...extra },
    });
    const [a, tooMuchMemory, tooManyCpus, tooDeep, tooLong, c, oneTooMany] = await through(parent.id, [
      // a: itself and its own subtree's budget: 2 sandboxes, 256 MB, 1 vCPU of the parent's 4, 400 MB, 2.5 vCPUs.
      child({ memory: 128, nested: { maxChildren: 1, maxDepth: 1, memory: 128, vcpus: 0.5 } }),
      child({ memory: 256 }),
      child({ vcpus: 2 }),
      child({ nested: { maxChildren: 1, maxDepth: 2 } }),
      child({ timeout: 600 }),
      // c: nested too (its token is tested below): 2 sandboxes, 128 MB, 1 vCPU.
      child({ nested: { maxChildren: 1, maxDepth: 1, memory: 64, vcpus: 0.5 } }),
      child({}),
    ]);
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(tooMuchMemory.status).toBe(429);
    expect(tooMuchMemory.body.error).toMatch(/nested budget exceeded: memoryMb/);
    expect(tooManyCpus.status).toBe(429);
    expect(tooManyCpus.body.error).toMatch(/nested budget exceeded: cpus/);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error).toMatch(/nested\.maxDepth/);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatch(/timeout: a child sandbox cannot outlive its parent/);
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect(oneTooMany.status).toBe(429);
    expect(oneTooMany.body.error).toMatch(/nested budget exceeded: maxChildren/);
    // A child never outlives its parent.
    expect(Date.parse(a.body.expiresAt)).toBeLessThanOrEqual(Date.parse(parent.expiresAt));
    expect(a.body.parentId).toBe(parent.id);

    // One level further down: a's child may not nest again (a's maxDepth is 1), and a's budget is a's own.
    const [grandchild, nestsAgain, overA] = await through(a.body.id, [child({}), child({ nested: { maxChildren: 1 } }), child({})]);
    expect(grandchild.status, JSON.stringify(grandchild.body)).toBe(201);
    expect(nestsAgain.status).toBe(400);
    expect(nestsAgain.body.error).toMatch(/depth limit reached/);
    expect(overA.status).toBe(429);
    expect(overA.body.error).toMatch(/maxChildren/);

    // Tokens act on their own descendants only: not a sibling's tree, not an ancestor, not a stranger's sandbox.
    const stranger = await createProbe({}, otherToken);
    const fromC = await through(c.body.id, [
      { method: "GET", path: `/api/v1/sandboxes/${a.body.id}` },
      { method: "GET", path: `/api/v1/sandboxes/${grandchild.body.id}` },
      { method: "DELETE", path: `/api/v1/sandboxes/${grandchild.body.id}` },
      { method: "POST", path: `/api/v1/sandboxes/${grandchild.body.id}/runs`, body: {} },
      { method: "GET", path: `/api/v1/sandboxes/${parent.id}` },
      { method: "DELETE", path: `/api/v1/sandboxes/${stranger.id}` },
    ]);
    expect(
      fromC.map((result) => result.status),
      JSON.stringify(fromC),
    ).toEqual([404, 404, 404, 404, 404, 404]);
    const fromParent = await through(parent.id, [{ method: "GET", path: `/api/v1/sandboxes/${grandchild.body.id}` }]);
    expect(fromParent[0].status).toBe(200);
    expect(await statusOf(grandchild.body.id)).toBe("ready");
    expect((await api("GET", `/api/v1/sandboxes/${stranger.id}`, undefined, otherToken)).json.status).toBe("ready");

    // Deleting the parent deletes the whole tree: no container of it remains.
    const tree = [parent.id, a.body.id, c.body.id, grandchild.body.id];
    expect(tree.every((id) => containersOf(id).length === 1)).toBe(true);
    expect((await api("DELETE", `/api/v1/sandboxes/${parent.id}`)).status).toBe(200);
    for (const id of tree) expect(await statusOf(id)).toBe("deleted");
    expect(await waitUntil(() => tree.every((id) => containersOf(id).length === 0), 30_000), tree.map(containersOf).join(",")).toBe(true);
    await api("DELETE", `/api/v1/sandboxes/${stranger.id}`, undefined, otherToken);
  }, 240_000);

  it("a parent's expiry takes its children and their containers with it", async () => {
    const parent = await createProbe({ timeout: 8, nested: { maxChildren: 2, maxDepth: 1 } });
    const [child] = await through(parent.id, [{ method: "POST", path: "/api/v1/sandboxes", body: { runtime: "python", code: "print(1)", memory: 64 } }]);
    expect(child.status, JSON.stringify(child.body)).toBe(201);
    expect(Date.parse(child.body.expiresAt)).toBeLessThanOrEqual(Date.parse(parent.expiresAt));
    expect(await waitUntil(async () => (await statusOf(parent.id)) === "expired", 30_000)).toBe(true);
    expect(["deleted", "expired"]).toContain(await statusOf(child.body.id));
    expect(await waitUntil(() => containersOf(parent.id).length + containersOf(child.body.id).length === 0, 30_000)).toBe(true);
  }, 120_000);
});
