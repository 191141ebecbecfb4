/**
 * The SDK against a real Sandpit (web + worker) and real containers (runc).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../../tests/support/stack.js";
import { AuthError, Client, ConflictError, CPUSandbox, NotFoundError, Sandpit, SandpitTimeoutError, ValidationError, type Sandbox } from "../src/index.js";
import { containersForSandbox, createToken, removeRequirementImages, sleep } from "./support.js";

async function hasNvidiaGpu(): Promise<boolean> {
  const { execFileSync } = await import("node:child_process");
  try {
    execFileSync("nvidia-smi", ["-L"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let stack: Stack;
let token: string;
let client: Client;
const created: Sandbox[] = [];

/** Creates a sandbox and remembers it for cleanup. */
async function sandbox(options: Parameters<typeof CPUSandbox.create>[0]): Promise<CPUSandbox> {
  const made = await CPUSandbox.create({ timeout: 120, ...options });
  created.push(made);
  return made;
}

beforeAll(async () => {
  stack = await startStack({ containerRuntime: "runc" });
  token = createToken(stack.dataDir);
  client = await Sandpit({ apiToken: token, baseUrl: stack.baseUrl });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

// Each test cleans up its sandboxes (a token may hold only so many live ones).
afterEach(async (context) => {
  if (context.task.result?.state === "fail") console.error(stack.logs().slice(-6000));
  for (const made of created.splice(0)) await made.delete().catch(() => undefined);
});

describe("@sandpit/sdk against a live server", () => {
  it("authenticates and knows the user", () => {
    expect(client.user?.username).toBe("test-user");
    expect(client.baseUrl).toBe(stack.baseUrl);
  });

  it("creates, runs twice with state kept, and deletes", async () => {
    const code = [
      "import os",
      "if os.path.exists('state.txt'):",
      "    print('read ' + open('state.txt').read())",
      "else:",
      "    open('state.txt', 'w').write('kept')",
      "    print('wrote')",
    ].join("\n");
    const box = await sandbox({ name: "state-test", language: "python", code, memory: "256MB" });
    expect(box.name).toBe("state-test");
    expect(box.id).toMatch(/\S+/);
    expect(box.status).toBe("ready");

    const first = await box.run();
    expect(first).toMatchObject({ status: 200, stdout: "wrote\n", exitCode: 0, state: "succeeded", truncated: false });
    expect(first.durationMs).toBeGreaterThanOrEqual(0);
    const second = await box.run();
    expect(second.stdout).toBe("read kept\n");

    await box.delete();
    expect((await box.refresh()).status).toBe("deleted");
    await box.delete(); // idempotent
    await expect(box.run()).rejects.toBeInstanceOf(ConflictError);
  });

  it("takes code inline, as a relative path and as an absolute path", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "sandpit-sdk-code-"));
    const cwd = process.cwd();
    try {
      writeFileSync(path.join(dir, "relative.js"), "console.log('from a relative path')\n");
      writeFileSync(path.join(dir, "absolute.py"), "print('from an absolute path')\n");
      process.chdir(dir);
      const inline = await sandbox({ runtime: "node", code: "console.log('from a string')" });
      const relative = await sandbox({ runtime: "node", code: "./relative.js" });
      const absolute = await sandbox({ language: "python", code: path.join(dir, "absolute.py") });
      expect((await inline.run()).stdout).toBe("from a string\n");
      expect((await relative.run()).stdout).toBe("from a relative path\n");
      expect((await absolute.run()).stdout).toBe("from an absolute path\n");
      await expect(CPUSandbox.create({ runtime: "node", code: "./does-not-exist.js" })).rejects.toMatchObject({ name: "ValidationError", field: "code" });
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("returns Lambda-style handler responses with the status code and the parsed body", async () => {
    const python = await sandbox({
      language: "python",
      code: [
        "import json",
        "def handler(event, context):",
        "    return {'statusCode': 200, 'body': json.dumps({'sum': event['a'] + event['b'], 'name': context.name})}",
      ].join("\n"),
      name: "handler-py",
    });
    const result = await python.run({ a: 2, b: 3 });
    expect(result.status).toBe(200);
    expect(result.response).toEqual({ sum: 5, name: "handler-py" });

    const node = await sandbox({
      runtime: "node",
      code: "exports.handler = async (event) => ({ statusCode: 201, body: JSON.stringify({ echo: event }) });",
    });
    const created = await node.run({ hello: "world" });
    expect(created.status).toBe(201);
    expect(created.response).toEqual({ echo: { hello: "world" } });

    const plain = await sandbox({ language: "python", code: "def handler(event, context):\n    return {'n': len(event)}" });
    expect(await plain.run([1, 2, 3])).toMatchObject({ status: 200, response: { n: 3 } });
  });

  it("streams output to callbacks before run() returns", async () => {
    const box = await sandbox({
      language: "python",
      code: [
        "import sys, time",
        "for i in range(3):",
        "    print(f'line {i}', flush=True)",
        "    time.sleep(0.4)",
        "print('warning', file=sys.stderr, flush=True)",
      ].join("\n"),
    });
    const stdout: string[] = [];
    const stderr: string[] = [];
    let returned = false;
    const seenBeforeReturn: boolean[] = [];
    const result = await box.run({
      onStdout: (data) => {
        seenBeforeReturn.push(!returned);
        stdout.push(data);
      },
      onStderr: async (data) => {
        await sleep(10); // async callbacks are awaited too
        seenBeforeReturn.push(!returned);
        stderr.push(data);
      },
    });
    returned = true;
    expect(stdout.join("")).toBe("line 0\nline 1\nline 2\n");
    expect(stderr.join("")).toBe("warning\n");
    expect(seenBeforeReturn.every(Boolean)).toBe(true);
    expect(stdout.length).toBeGreaterThanOrEqual(2); // arrived as it was printed, not as one block at the end
    expect(result.stdout).toBe(stdout.join(""));
  });

  it("passes stdin and a command, and uploads files", async () => {
    const box = await sandbox({ language: "python", code: "import sys\nprint(sys.stdin.read().upper(), end='')" });
    expect((await box.run(undefined, { stdin: "shout" })).stdout).toBe("SHOUT");
    const dir = mkdtempSync(path.join(os.tmpdir(), "sandpit-sdk-upload-"));
    try {
      writeFileSync(path.join(dir, "input.csv"), "a,b\n1,2\n");
      expect(await box.upload({ localPath: path.join(dir, "input.csv"), filePath: "data/input.csv" })).toMatchObject({ path: "data/input.csv", size: 8 });
      expect((await box.run(undefined, { command: "cat data/input.csv" })).stdout).toBe("a,b\n1,2\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("raises SandpitTimeoutError (kind run) when a run hits its limit", async () => {
    const box = await sandbox({ language: "python", code: "import time\nprint('start', flush=True)\ntime.sleep(30)" });
    const error = await box.run(undefined, { timeout: 1 }).catch((caught) => caught);
    expect(error).toBeInstanceOf(SandpitTimeoutError);
    expect(error.kind).toBe("run");
    expect(error.result.stdout).toBe("start\n");
  });

  it("leaves limits to the server, which names the field and its bound", async () => {
    const error = await CPUSandbox.create({ language: "python", code: "print(1)", vcpus: 999, timeout: 1e6 }).catch((caught) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/vcpus must be at most|timeout must be at most/);
  });

  it("deletes a sandbox when its `await using` block ends", async () => {
    let id = "";
    {
      await using box = await CPUSandbox.create({ language: "python", code: "print(1)" });
      id = box.id;
      expect((await box.run()).stdout).toBe("1\n");
    }
    expect((await CPUSandbox.connect(id)).status).toBe("deleted");
  });

  it("removes a sandbox left alone when its timeout runs out", async () => {
    const box = await CPUSandbox.create({ language: "python", code: "print(1)", timeout: 2 });
    expect(containersForSandbox(box.id).length).toBe(1);
    const deadline = Date.now() + 5000;
    let status = box.status;
    let containers = containersForSandbox(box.id);
    while (Date.now() < deadline && (status !== "expired" || containers.length)) {
      await sleep(250);
      status = (await box.refresh()).status;
      containers = containersForSandbox(box.id);
    }
    expect(status).toBe("expired");
    expect(containers).toEqual([]);
    await expect(box.run()).rejects.toBeInstanceOf(ConflictError);
  });

  it("installs requirements once and reuses them", async () => {
    // The worker caches installs host-wide, by requirement text: a fresh (equivalent) spelling makes the
    // first create really install; the images it leaves are removed afterwards.
    const requirement = `lodash@>=4.0.${Math.floor(Math.random() * 1e6)}`;
    const code = "const _ = require('lodash'); console.log(JSON.stringify(_.chunk([1, 2, 3, 4], 2)))";
    const made: Sandbox[] = [];
    try {
      const started = Date.now();
      const first = await sandbox({ runtime: "node", code, requirements: [requirement] });
      made.push(first);
      const firstMs = Date.now() - started;
      expect(first.requirementsCached).toBe(false);
      expect((await first.run()).stdout).toBe("[[1,2],[3,4]]\n");

      const again = Date.now();
      const second = await sandbox({ runtime: "node", code, requirements: `${requirement}\n` });
      made.push(second);
      const secondMs = Date.now() - again;
      expect(second.requirementsCached).toBe(true);
      expect((await second.run()).stdout).toBe("[[1,2],[3,4]]\n");
      expect(secondMs, `first ${firstMs} ms, second ${secondMs} ms`).toBeLessThan(firstMs / 2);
    } finally {
      for (const box of made) await box.delete().catch(() => undefined);
      await removeRequirementImages(requirement);
    }
  });

  it("raises AuthError for a bad token", async () => {
    await expect(Sandpit({ apiToken: "not-a-token", baseUrl: stack.baseUrl })).rejects.toBeInstanceOf(AuthError);
    await expect(CPUSandbox.create({ apiToken: "not-a-token", baseUrl: stack.baseUrl, runtime: "node", code: "1" })).rejects.toBeInstanceOf(AuthError);
  });

  it("raises ValidationError naming the field, from the SDK and from the server", async () => {
    await expect(CPUSandbox.create({ runtime: "python", code: "print(1)", memory: "lots" })).rejects.toMatchObject({
      name: "ValidationError",
      field: "memory",
    });
    // Checked by the server: over the operator's memory limit, and a refused Deno permission.
    const tooBig = await CPUSandbox.create({ runtime: "python", code: "print(1)", memory: "64Gi" }).catch((error) => error);
    expect(tooBig).toBeInstanceOf(ValidationError);
    expect(tooBig).toMatchObject({ status: 400, field: "memory" });
    const net = await CPUSandbox.create({ runtime: "deno", code: "console.log(1)", denoFlags: ["--allow-net"] }).catch((error) => error);
    expect(net).toMatchObject({ name: "ValidationError", status: 400, field: "denoFlags" });
  });

  it("runs every runtime, and a TypeScript handler", async () => {
    const programs: [Parameters<typeof CPUSandbox.create>[0], string][] = [
      [{ runtime: "deno", code: "const who: string = 'deno'; console.log(`hello ${who}`)" }, "hello deno\n"],
      [{ language: "go", code: 'package main\nimport "fmt"\nfunc main() { fmt.Println("hello go") }' }, "hello go\n"],
      [{ runtime: "shell", code: "echo hello $((40 + 2))" }, "hello 42\n"],
      [{ runtime: "node", code: "console.log('hello node')", envVariables: { GREETING: "hi" } }, "hello node\n"],
    ];
    for (const [options, stdout] of programs) {
      const box = await sandbox(options);
      expect((await box.run()).stdout, JSON.stringify(options)).toBe(stdout);
      await box.delete();
    }
    const withEnv = await sandbox({ runtime: "node", code: "console.log(process.env.GREETING)", envVariables: [{ key: "GREETING", value: "hi" }] });
    expect((await withEnv.run()).stdout).toBe("hi\n");
    const ts = await sandbox({
      language: "typescript",
      code: "export function handler(event: { n: number }) { return { statusCode: 200, body: JSON.stringify({ double: event.n * 2 }) }; }",
    });
    expect(await ts.run({ n: 21 })).toMatchObject({ status: 200, response: { double: 42 } });
  });

  it("passes GPU and model options on, and reports the server's refusal by field", async () => {
    const { GPUSandbox } = await import("../src/index.js");
    if (!(await hasNvidiaGpu())) {
      const gpu = await GPUSandbox.create({ language: "python", gpu: "T4", code: "print(1)" }).catch((error) => error);
      expect(gpu).toMatchObject({ name: "ValidationError", status: 400, field: "gpu" });
    }
    const model = await CPUSandbox.create({ language: "python", model: "no-such-model", code: "print(1)" }).catch((error) => error);
    expect(model).toMatchObject({ name: "ValidationError", status: 400, field: "model" });
  });

  it("raises NotFoundError for an unknown sandbox", async () => {
    await expect(CPUSandbox.connect("no-such-sandbox")).rejects.toBeInstanceOf(NotFoundError);
  });
});
