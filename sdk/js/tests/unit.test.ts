import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveCode } from "../src/code-source.js";
import { errorFromResponse } from "../src/errors.js";
import { listModelFiles, planModel } from "../src/model-upload.js";
import { buildCreateBody, buildCreateRequest } from "../src/options.js";
import {
  AuthenticationError,
  AuthError,
  Buildfunctions,
  BuildfunctionsError,
  CapacityError,
  Client,
  ConflictError,
  CPUSandbox,
  GPUSandbox,
  looksLikePath,
  NotFoundError,
  RateLimitError,
  Sandpit,
  SandpitError,
  SandpitTimeoutError,
  ValidationError,
} from "../src/index.js";

function validationField(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).field;
  }
  throw new Error("expected a ValidationError");
}

describe("client options", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("takes the explicit option, then the environment, then the default", () => {
    delete process.env.SANDPIT_API_TOKEN;
    delete process.env.SANDPIT_BASE_URL;
    expect(new Client().baseUrl).toBe("http://localhost:3000");
    process.env.SANDPIT_API_TOKEN = "env-token";
    process.env.SANDPIT_BASE_URL = "http://127.0.0.1:9/";
    expect(new Client()).toMatchObject({ apiToken: "env-token", baseUrl: "http://127.0.0.1:9" });
    expect(new Client({ apiToken: "given", baseUrl: "http://127.0.0.1:8" })).toMatchObject({ apiToken: "given", baseUrl: "http://127.0.0.1:8" });
  });

  it("exports Buildfunctions as the same function as Sandpit", () => {
    expect(Buildfunctions).toBe(Sandpit);
  });

  it("refuses to send a request without a token", async () => {
    delete process.env.SANDPIT_API_TOKEN;
    await expect(new Client({ baseUrl: "http://127.0.0.1:9" }).request("GET", "/api/v1/me")).rejects.toBeInstanceOf(AuthError);
  });

  it("reports an unreachable server as a SandpitError", async () => {
    await expect(Sandpit({ apiToken: "x", baseUrl: "http://127.0.0.1:9" })).rejects.toBeInstanceOf(SandpitError);
  });
});

describe("error mapping", () => {
  it("maps HTTP statuses to typed errors", () => {
    const headers = new Headers({ "retry-after": "7" });
    expect(errorFromResponse(400, { error: "bad", field: "memory" })).toMatchObject({ field: "memory", message: "bad", status: 400 });
    expect(errorFromResponse(400, {})).toBeInstanceOf(ValidationError);
    expect(errorFromResponse(401, { error: "no" })).toBeInstanceOf(AuthError);
    expect(errorFromResponse(403, { error: "no" })).toBeInstanceOf(AuthError);
    expect(errorFromResponse(404, { error: "gone" })).toBeInstanceOf(NotFoundError);
    expect(errorFromResponse(409, { error: "expired" })).toBeInstanceOf(ConflictError);
    const limited = errorFromResponse(429, { error: "slow down" }, headers);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).retryAfter).toBe(7);
    expect(errorFromResponse(504, "gateway timeout")).toBeInstanceOf(SandpitTimeoutError);
    const other = errorFromResponse(500, "<html>oops</html>");
    expect(other).toBeInstanceOf(SandpitError);
    expect(other.message).toContain("oops");
    for (const error of [limited, other]) expect(error).toBeInstanceOf(Error);
  });

  it("maps the server's error code first, and answers to the published SDK's names", () => {
    const busy = errorFromResponse(503, { error: "gpu: every GPU slot stayed busy for 60 s", code: "unavailable" });
    expect(busy).toBeInstanceOf(CapacityError);
    expect(busy).toBeInstanceOf(BuildfunctionsError);
    expect(busy).toMatchObject({ statusCode: 503, status: 503, code: "unavailable" });
    expect(errorFromResponse(400, { error: "gpu: no worker has a GPU", code: "validation", field: "gpu" })).toMatchObject({ field: "gpu", statusCode: 400 });
    expect(errorFromResponse(403, { error: "no", code: "forbidden" })).toBeInstanceOf(AuthenticationError);
    expect(AuthenticationError).toBe(AuthError);
    expect(BuildfunctionsError).toBe(SandpitError);
    expect(errorFromResponse(410, { error: "deleted", code: "gone" })).toBeInstanceOf(ConflictError);
    expect(errorFromResponse(409, { error: "resume", code: "conflict", offset: 42 }).details).toMatchObject({ offset: 42 });
    expect(errorFromResponse(500, { error: "x", code: "some_new_code" })).not.toBeInstanceOf(ValidationError);
  });
});

describe("code given inline or as a path", () => {
  let dir: string;
  const cwd = process.cwd();
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sandpit-sdk-unit-"));
    writeFileSync(path.join(dir, "hello.py"), "print('from file')\n");
    mkdirSync(path.join(dir, "models", "Qwen3-8B"), { recursive: true });
    process.chdir(dir);
  });
  afterEach(() => process.chdir(cwd));

  it("tells paths from code", () => {
    for (const value of ["/abs/file.py", "./x.js", "../y.ts", "~/z.sh", "main.py", "dir/main.go", "/a b/c.py"]) expect(looksLikePath(value), value).toBe(true);
    for (const value of ["print('hi')", "console.log(1)", "// comment only", "/* c */ x()", "python main.py", "echo hi.sh extra", "a.py\nb.py", "x=1; y.py"])
      expect(looksLikePath(value), value).toBe(false);
  });

  it("reads relative and absolute paths, keeps inline code, refuses missing files on `code`", () => {
    expect(resolveCode("./hello.py").code).toBe("print('from file')\n");
    expect(resolveCode("hello.py").code).toBe("print('from file')\n");
    expect(resolveCode(path.join(dir, "hello.py")).code).toBe("print('from file')\n");
    expect(resolveCode("print('inline')").code).toBe("print('inline')");
    expect(validationField(() => resolveCode("./missing.py"))).toBe("code");
    expect(validationField(() => resolveCode("missing.py"))).toBe("code");
  });

  it("expands ~/ against the home directory", () => {
    const home = os.homedir();
    const file = mkdtempSync(path.join(home, ".sandpit-sdk-unit-"));
    writeFileSync(path.join(file, "t.py"), "print(1)");
    try {
      expect(resolveCode(`~/${path.relative(home, file)}/t.py`).code).toBe("print(1)");
    } finally {
      rmSync(file, { recursive: true, force: true });
    }
  });

  it("sends the local files a command names", () => {
    const resolved = resolveCode('python hello.py "a prompt"');
    expect(resolved.code).toBe('python hello.py "a prompt"');
    expect(resolved.files).toEqual([{ path: "hello.py", content: Buffer.from("print('from file')\n").toString("base64") }]);
  });

  it("plans a model: a local folder is uploaded under its name, names and hub ids pass through", () => {
    expect(planModel("./models/Qwen3-8B")).toEqual({ name: "Qwen3-8B", folder: path.join(dir, "models", "Qwen3-8B") });
    expect(planModel(path.join(dir, "models/Qwen3-8B"))).toEqual({ name: "Qwen3-8B", folder: path.join(dir, "models", "Qwen3-8B") });
    expect(planModel("Qwen/Qwen3-8B")).toEqual({ name: "Qwen/Qwen3-8B" }); // a hub id: never looked for locally
    expect(planModel("/path/to/models/Qwen/Qwen3-8B")).toEqual({ name: "Qwen3-8B" }); // not here: the store's model of that name
    expect(planModel({ name: "org/my-model", path: "./models/Qwen3-8B" })).toEqual({ name: "org/my-model", folder: path.join(dir, "models", "Qwen3-8B") });
    expect(planModel({ name: "my-model" })).toEqual({ name: "my-model" });
    expect(validationField(() => planModel({ name: "m", path: "./models/nope" }))).toBe("model");
    expect(validationField(() => planModel({ name: "../m" }))).toBe("model");
    expect(validationField(() => planModel(""))).toBe("model");
    expect(buildCreateRequest({ language: "python", model: "./models/Qwen3-8B" }, "gpu")).toMatchObject({
      body: { model: "Qwen3-8B" },
      modelFolder: path.join(dir, "models", "Qwen3-8B"),
    });
  });

  it("lists a model folder's files, leaving out hidden and empty ones", async () => {
    const folder = path.join(dir, "models", "Qwen3-8B");
    mkdirSync(path.join(folder, "sub"));
    mkdirSync(path.join(folder, ".cache"));
    writeFileSync(path.join(folder, "config.json"), "{}");
    writeFileSync(path.join(folder, "sub", "weights.bin"), "abc");
    writeFileSync(path.join(folder, ".gitattributes"), "x");
    writeFileSync(path.join(folder, ".cache", "lock"), "x");
    writeFileSync(path.join(folder, "empty.txt"), "");
    expect((await listModelFiles(folder)).map((file) => [file.path, file.size])).toEqual([
      ["config.json", 2],
      ["sub/weights.bin", 3],
    ]);
  });
});

describe("option checks before any request", () => {
  it("names the offending field", () => {
    const base = { runtime: "python" as const, code: "print(1)" };
    expect(validationField(() => buildCreateBody({ ...base, memory: "lots" }, "cpu"))).toBe("memory");
    expect(validationField(() => buildCreateBody({ ...base, timeout: -1 }, "cpu"))).toBe("timeout");
    expect(validationField(() => buildCreateBody({ ...base, vcpus: 0 }, "cpu"))).toBe("vcpus");
    expect(validationField(() => buildCreateBody({ ...base, runtime: "cobol" as never }, "cpu"))).toBe("runtime");
    expect(validationField(() => buildCreateBody({ code: "x" }, "cpu"))).toBe("runtime");
    expect(validationField(() => buildCreateBody({ language: "javascript" }, "cpu"))).toBe("runtime");
    expect(validationField(() => buildCreateBody({ ...base, envVariables: { "BAD-KEY": "1" } }, "cpu"))).toBe("envVariables");
    expect(validationField(() => buildCreateBody({ ...base, memroy: "1GB" } as never, "cpu"))).toBe("memroy");
    expect(validationField(() => buildCreateBody({ ...base, gpu: "T4" } as never, "cpu"))).toBe("gpu");
    expect(validationField(() => buildCreateBody({ ...base, gpu: "" }, "gpu"))).toBe("gpu");
    expect(validationField(() => buildCreateBody({ runtime: "node", code: "1" }, "gpu"))).toBe("runtime");
    expect(validationField(() => buildCreateBody({ ...base, vcpus: 2, cpu_cores: 2 }, "cpu"))).toBe("cpu_cores");
    expect(validationField(() => buildCreateBody({ ...base, gpu_count: 1 } as never, "cpu"))).toBe("gpuCount");
    expect(validationField(() => buildCreateBody({ ...base, gpu_count: 0 }, "gpu"))).toBe("gpuCount");
  });

  it("takes the published SDK's option names", () => {
    expect(buildCreateBody({ language: "python", cpu_cores: 6, gpu_count: 1, env_variables: { A: "1" } }, "gpu")).toEqual({
      language: "python",
      vcpus: 6,
      gpu: "any",
      gpuCount: 1,
      envVariables: [{ key: "A", value: "1" }],
    });
    expect(buildCreateBody({ language: "python", cpuCores: 2 }, "cpu")).toEqual({ language: "python", vcpus: 2 });
  });

  it("builds the request body", () => {
    expect(
      buildCreateBody({ name: "n", language: "python", memory: "512MB", timeout: 30, vcpus: 0.5, envVariables: { A: 1 }, requirements: ["requests"] }, "cpu"),
    ).toEqual({
      name: "n",
      language: "python",
      memory: "512MB",
      timeout: 30,
      vcpus: 0.5,
      envVariables: [{ key: "A", value: "1" }],
      requirements: ["requests"],
    });
    expect(buildCreateBody({ language: "python", gpu: "T4", model: "Qwen3-8B" }, "gpu")).toMatchObject({ gpu: "T4", model: "Qwen3-8B" });
    expect(buildCreateBody({ language: "python" }, "gpu")).toMatchObject({ gpu: "any" });
  });

  it("rejects bad options in create() before talking to the server", async () => {
    const unreachable = { apiToken: "x", baseUrl: "http://127.0.0.1:9" };
    await expect(CPUSandbox.create({ ...unreachable, runtime: "python", memory: "lots" })).rejects.toMatchObject({ name: "ValidationError", field: "memory" });
    await expect(GPUSandbox.create({ ...unreachable, language: "python", model: { name: "m", path: "./no/such/model" } })).rejects.toMatchObject({
      field: "model",
    });
  });
});

describe("client-side deadline", () => {
  it("raises SandpitTimeoutError (kind client) when the server does not answer", async () => {
    const net = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const server = net.createServer((socket) => void sockets.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as import("node:net").AddressInfo;
    try {
      const client = new Client({ apiToken: "x", baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 300 });
      const error = await client.request("GET", "/api/v1/me").catch((caught: SandpitTimeoutError) => caught);
      expect(error).toBeInstanceOf(SandpitTimeoutError);
      expect((error as SandpitTimeoutError).kind).toBe("client");
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});

describe("sandboxes as resources", () => {
  it("deletes the sandbox when an `await using` block ends", async () => {
    const deleted: string[] = [];
    const probe = Object.assign(Object.create(CPUSandbox.prototype) as CPUSandbox, {
      delete: async () => {
        deleted.push("sb1");
      },
    });
    {
      await using box = probe;
      expect(box).toBe(probe);
      expect(deleted).toEqual([]);
    }
    expect(deleted).toEqual(["sb1"]);
  });
});

describe("exported names", () => {
  it("shadow no built-in, nor the errors fetch throws (`AbortSignal.timeout()` rejects with one named TimeoutError)", async () => {
    const domExceptionNames = ["TimeoutError", "AbortError"];
    const exported = Object.keys(await import("../src/index.js"));
    expect(exported.filter((name) => name in globalThis || domExceptionNames.includes(name))).toEqual([]);
  });
});
