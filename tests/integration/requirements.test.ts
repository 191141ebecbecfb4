import Database from "better-sqlite3";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokens } from "../support/create-token";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type ContainerRuntime, type Stack } from "../support/stack";
import { requirementsImageTag } from "@/worker/sandboxes/requirements-image";

/**
 * Sandbox requirements: real registry packages install and are cached; a hostile registry served by the test
 * on loopback cannot make the worker fetch a git, file or remote dependency, run a package's code, or reach a
 * listener the test started. See docs/security.md, "Package installs".
 */
const REQUIREMENTS_LABEL = "sandpit.requirements-cache";

function labelledImages(): string[] {
  return execFileSync("docker", ["images", "-q", "--filter", `label=${REQUIREMENTS_LABEL}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}

async function api(stack: Stack, token: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${stack.baseUrl}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function runOnce(stack: Stack, token: string, sandbox: Record<string, unknown>) {
  const created = await api(stack, token, "POST", "/sandboxes", { timeout: 120, ...sandbox });
  if (created.status !== 201) return { created, run: null };
  try {
    const run = await api(stack, token, "POST", `/sandboxes/${created.json.id}/runs?wait=1`, {});
    return { created, run };
  } finally {
    await api(stack, token, "DELETE", `/sandboxes/${created.json.id}`);
  }
}

describe.each(CONTAINER_RUNTIMES)("registry requirements under %s", (containerRuntime: ContainerRuntime) => {
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    stack = await startStack({ containerRuntime, workerEnv: { INSTANCE_ID: `requirements-${containerRuntime}-${randomBytes(4).toString("hex")}` } });
    [token] = await createTokens(stack.dataDir, ["requirements"]);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("installs six==1.16.0 from PyPI; the second sandbox gets it from the cache", async () => {
    const body = { runtime: "python", requirements: ["six==1.16.0"], code: "import six; print(six.__version__)" };
    const first = await runOnce(stack, token, body);
    expect(first.created.status, JSON.stringify(first.created.json)).toBe(201);
    expect(first.run?.json.stdout, JSON.stringify(first.run?.json)).toBe("1.16.0\n");
    const second = await runOnce(stack, token, body);
    expect(second.created.json.requirementsCached, JSON.stringify(second.created.json)).toBe(true);
    expect(second.run?.json.stdout).toBe("1.16.0\n");
  }, 600_000);

  it("installs is-number@7.0.0 from npm; the second sandbox gets it from the cache", async () => {
    const body = {
      runtime: "node",
      requirements: ["is-number@7.0.0"],
      code: "console.log(require('is-number')(5), require('is-number/package.json').version)",
    };
    const first = await runOnce(stack, token, body);
    expect(first.created.status, JSON.stringify(first.created.json)).toBe(201);
    expect(first.run?.json.stdout, JSON.stringify(first.run?.json)).toBe("true 7.0.0\n");
    const second = await runOnce(stack, token, body);
    expect(second.created.json.requirementsCached, JSON.stringify(second.created.json)).toBe(true);
    expect(second.run?.json.stdout).toBe("true 7.0.0\n");
  }, 600_000);

  it("refuses non-registry specs with a 400 naming the entry, and answers the exponential string fast", async () => {
    for (const [runtime, entry] of [
      ["python", "pkg @ https://example.invalid/pkg.whl"],
      ["python", "-r /etc/passwd"],
      ["python", "--index-url https://example.invalid/simple"],
      ["node", "pkg@git+file:///etc"],
      ["node", "github:attacker/pkg"],
    ]) {
      const created = await api(stack, token, "POST", "/sandboxes", { runtime, requirements: [entry], code: "1" });
      expect(created.status, entry).toBe(400);
      expect(created.json.error).toContain(entry.slice(0, 100));
    }
    // The bound: the 170-byte string that froze the old regex answers within 50 ms (best of three
    // through HTTP, so a busy CI machine's scheduling is not mistaken for backtracking, which took hours).
    let fastestMs = Infinity;
    let hostile = { status: 0, json: {} as any };
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      hostile = await api(stack, token, "POST", "/sandboxes", { runtime: "python", requirements: ["a" + "==1 ".repeat(42) + "!"], code: "1" });
      fastestMs = Math.min(fastestMs, performance.now() - started);
    }
    expect(fastestMs).toBeLessThan(50);
    expect(hostile.status).toBe(400);
  }, 60_000);
});

/** A tiny npm registry on loopback, serving packages the test builds from files it writes. */
async function startNpmRegistry(workDir: string, packages: { name: string; version: string; files: Record<string, string> }[]) {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, unknown>();
  for (const pkg of packages) {
    const dir = path.join(workDir, `${pkg.name}-src`, "package");
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(pkg.files)) writeFileSync(path.join(dir, file), content);
    const tgz = path.join(workDir, `${pkg.name}-${pkg.version}.tgz`);
    execFileSync("tar", ["czf", tgz, "-C", path.dirname(dir), "package"]);
    const bytes = readFileSync(tgz);
    const tarballPath = `/${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`;
    tarballs.set(tarballPath, bytes);
    const manifest = JSON.parse(pkg.files["package.json"]);
    packuments.set(`/${pkg.name}`, {
      name: pkg.name,
      "dist-tags": { latest: pkg.version },
      versions: {
        [pkg.version]: {
          ...manifest,
          dist: {
            tarball: origin + tarballPath,
            integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
            shasum: createHash("sha1").update(bytes).digest("hex"),
          },
        },
      },
    });
  }
  server.on("request", (request, response) => {
    const url = decodeURIComponent(request.url ?? "");
    const tarball = tarballs.get(url);
    if (tarball) return response.writeHead(200, { "content-type": "application/octet-stream" }).end(tarball);
    const packument = packuments.get(url);
    if (packument) return response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument));
    response.writeHead(404, { "content-type": "application/json" }).end("{}");
  });
  return { origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// Under runc and runsc: the fetch step's runtime follows the sandbox runtime (runc, or gVisor runsc-uds).
describe.each(CONTAINER_RUNTIMES)("a hostile npm registry under %s", (containerRuntime: ContainerRuntime) => {
  let stack: Stack;
  let token: string;
  let workDir: string;
  let registry: Awaited<ReturnType<typeof startNpmRegistry>>;
  let listener: net.Server;
  let listenerConnections = 0;
  let hostMarker: string;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-hostile-npm-"));
    hostMarker = path.join(workDir, "pwned-by-npmrc-git");
    listener = net.createServer((socket) => {
      listenerConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const listenerPort = (listener.address() as net.AddressInfo).port;

    // A git repository whose own .npmrc points npm's git at a script that writes a host file: the
    // `git=./x.sh` trick that ran as root when a child npm prepared a git dependency.
    const repo = path.join(workDir, "evil-repo");
    mkdirSync(repo);
    writeFileSync(path.join(repo, "package.json"), JSON.stringify({ name: "evil-git", version: "1.0.0", scripts: { prepare: `touch ${hostMarker}` } }));
    writeFileSync(path.join(repo, ".npmrc"), "git=./x.sh\n");
    writeFileSync(path.join(repo, "x.sh"), `#!/bin/sh\ntouch ${hostMarker}\n`, { mode: 0o755 });
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.email=t@t", "-c", "user.name=t", ...args], { stdio: "ignore" });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "evil");

    const parent = (name: string, dependencies: Record<string, string>) => ({
      name,
      version: "1.0.0",
      files: { "package.json": JSON.stringify({ name, version: "1.0.0", dependencies }), "index.js": "module.exports = 1;\n" },
    });
    registry = await startNpmRegistry(workDir, [
      parent("via-git-file", { "evil-git": `git+file://${repo}` }),
      parent("via-git-http", { "evil-git": `git+http://127.0.0.1:${listenerPort}/evil.git` }),
      parent("via-file", { "evil-file": "file:/etc" }),
      parent("via-remote", { "evil-remote": `http://127.0.0.1:${listenerPort}/evil.tgz` }),
      // github.com is not a configured registry: the proxy refuses it without resolving or connecting to it.
      parent("via-github", { "evil-github": "github:attacker/evil" }),
      parent("honest", {}),
    ]);
    stack = await startStack({
      containerRuntime,
      workerEnv: { INSTANCE_ID: `requirements-hostile-${randomBytes(4).toString("hex")}`, NPM_REGISTRY: registry.origin, REQUIREMENTS_BUILD_TIMEOUT_S: "60" },
    });
    [token] = await createTokens(stack.dataDir, ["hostile"]);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await registry?.close();
    listener?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses every transitive git, file and remote dependency with a 400 naming it; nothing runs, nothing is reached", async () => {
    const imagesBefore = labelledImages();
    for (const name of ["via-git-file", "via-git-http", "via-file", "via-remote", "via-github"]) {
      const created = await api(stack, token, "POST", "/sandboxes", { runtime: "node", requirements: [`${name}@1.0.0`], code: "1", timeout: 60 });
      expect(created.status, `${name}: ${JSON.stringify(created.json)}`).toBe(400);
      expect(created.json.field).toBe("requirements");
      expect(created.json.error.length).toBeLessThanOrEqual(2100);
    }
    expect(existsSync(hostMarker), "a package's script or git wrapper ran on the host").toBe(false);
    expect(listenerConnections, "the build reached the test's listener").toBe(0);
    expect(labelledImages()).toEqual(imagesBefore);
    const leftovers = execFileSync("docker", ["ps", "-aq", "--filter", `label=${REQUIREMENTS_LABEL}`], { encoding: "utf8" }).trim();
    expect(leftovers).toBe("");
  }, 300_000);

  it("installs an honest package from the same registry", async () => {
    const created = await api(stack, token, "POST", "/sandboxes", {
      runtime: "node",
      requirements: ["honest@1.0.0"],
      code: "console.log(require('honest'))",
      timeout: 60,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const run = await api(stack, token, "POST", `/sandboxes/${created.json.id}/runs?wait=1`, {});
    expect(run.json.stdout).toBe("1\n");
    await api(stack, token, "DELETE", `/sandboxes/${created.json.id}`);
  }, 300_000);
});

/**
 * A tiny PyPI "simple" index on loopback (PEP 503), serving wheels and an sdist the test builds. A project may
 * also link a file on another host:port (a wheel "hosted" on the test's listener), which only the fetch step's
 * proxy could reach.
 */
async function startPypiIndex(workDir: string, projects: Record<string, { file: string; bytes?: Buffer; url?: string; hang?: boolean }>) {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const requested: string[] = [];
  server.on("request", (request, response) => {
    const url = request.url ?? "";
    requested.push(url);
    const project = url.match(/^\/simple\/([a-z0-9-]+)\/$/)?.[1];
    if (project && projects[project]) {
      const { file, bytes, url: external } = projects[project];
      const href = external ?? `${origin}/files/${file}#sha256=${createHash("sha256").update(bytes!).digest("hex")}`;
      return response.writeHead(200, { "content-type": "text/html" }).end(`<!DOCTYPE html><html><body><a href="${href}">${file}</a></body></html>`);
    }
    const served = Object.values(projects).find((entry) => entry.bytes && url === `/files/${entry.file}`);
    // A file that never comes: the download hangs until the build's timeout or its worker's death.
    if (served?.hang)
      return response
        .writeHead(200, { "content-type": "application/octet-stream", "content-length": String(served.bytes!.length) })
        .write(served.bytes!.subarray(0, 10));
    if (served) return response.writeHead(200, { "content-type": "application/octet-stream" }).end(served.bytes);
    response.writeHead(404).end();
  });
  void workDir;
  return {
    origin,
    requested,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Builds a pure-Python wheel (a zip with dist-info and RECORD) or an sdist with Debian's python3. */
function buildPythonDist(workDir: string, kind: "wheel" | "sdist", name: string, files: Record<string, string>): { file: string; bytes: Buffer } {
  const script = String.raw`
import base64, hashlib, io, json, sys, tarfile, zipfile
kind, name, out, files = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
dist = name.replace("-", "_")
if kind == "wheel":
    info = f"{dist}-1.0.dist-info"
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: sandpit-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(out, "w") as archive:
        for path, text in files.items(): archive.writestr(path, text)
else:
    with tarfile.open(out, "w:gz") as archive:
        files["PKG-INFO"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
        for path, text in files.items():
            data = text.encode(); member = tarfile.TarInfo(f"{dist}-1.0/{path}"); member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
`;
  const file = kind === "wheel" ? `${name.replace(/-/g, "_")}-1.0-py3-none-any.whl` : `${name.replace(/-/g, "_")}-1.0.tar.gz`;
  const out = path.join(workDir, file);
  execFileSync("/usr/bin/python3", ["-c", script, kind, name, out, JSON.stringify(files)]);
  return { file, bytes: readFileSync(out) };
}

describe("a hostile PyPI index", () => {
  const instanceId = `requirements-pypi-${randomBytes(4).toString("hex")}`;
  let stack: Stack;
  let token: string;
  let workDir: string;
  let index: Awaited<ReturnType<typeof startPypiIndex>>;
  let listener: net.Server;
  let listenerConnections = 0;
  let hostMarker: string;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-hostile-pypi-"));
    hostMarker = path.join(workDir, "pwned");
    listener = net.createServer((socket) => {
      listenerConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const listenerPort = (listener.address() as net.AddressInfo).port;
    // What a hostile package does when its code runs: reach the host's listener, write a host file.
    const payload =
      [
        "import socket",
        "try:",
        `    socket.create_connection(("127.0.0.1", ${listenerPort}), timeout=2).close(); REACHED = "reached"`,
        "except OSError:",
        '    REACHED = "blocked"',
        "try:",
        `    open(${JSON.stringify(hostMarker)}, "w").write("x"); WROTE = "wrote"`,
        "except OSError:",
        '    WROTE = "no-write"',
      ].join("\n") + "\n";
    const onePayloadLine = `import socket; exec(${JSON.stringify(payload)})\n`;
    index = await startPypiIndex(workDir, {
      "evil-pth": buildPythonDist(workDir, "wheel", "evil-pth", { "evil_pth/__init__.py": payload, "evil_pth.pth": onePayloadLine }),
      "evil-sdist": buildPythonDist(workDir, "sdist", "evil-sdist", {
        "setup.py": payload + "from setuptools import setup\nsetup(name='evil-sdist', version='1.0')\n",
      }),
      // A wheel linked on another host:port (the test's listener): only the fetch proxy could fetch it, and it refuses.
      "evil-hang": { ...buildPythonDist(workDir, "wheel", "evil-hang", { "evil_hang/__init__.py": "" }), hang: true },
      "evil-offsite": { file: "evil_offsite-1.0-py3-none-any.whl", url: `http://127.0.0.1:${listenerPort}/evil_offsite-1.0-py3-none-any.whl` },
    });
    stack = await startStack({
      containerRuntime: "runsc",
      workerEnv: {
        INSTANCE_ID: instanceId,
        PIP_INDEX_URL: `${index.origin}/simple`,
        PIP_FILE_HOSTS: "",
        REQUIREMENTS_BUILD_TIMEOUT_S: "60",
      },
    });
    [token] = await createTokens(stack.dataDir, ["hostile-pypi"]);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await index?.close();
    listener?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses a wheel-less sdist and a file on a non-configured host with a 400; the listener sees nothing", async () => {
    const imagesBefore = labelledImages();
    // pip's own words: no wheel to choose; the proxy's 403 for the other host:port.
    for (const [name, why] of [
      ["evil-sdist", /No matching distribution/],
      ["evil-offsite", /403/],
    ] as const) {
      const created = await api(stack, token, "POST", "/sandboxes", { runtime: "python", requirements: [`${name}==1.0`], code: "1", timeout: 60 });
      expect(created.status, `${name}: ${JSON.stringify(created.json)}`).toBe(400);
      expect(created.json.field).toBe("requirements");
      expect(created.json.error).toMatch(why);
    }
    // pip saw the sdist and never downloaded it; the offsite wheel's request ended at the proxy.
    expect(index.requested).toContain("/simple/evil-sdist/");
    expect(index.requested.some((url) => url.startsWith("/files/evil_sdist"))).toBe(false);
    expect(listenerConnections, "the fetch step reached a host that is not a configured registry").toBe(0);
    expect(existsSync(hostMarker)).toBe(false);
    expect(labelledImages()).toEqual(imagesBefore);
  }, 300_000);

  it("installs a wheel with a hostile .pth and module offline; imported in the sandbox it reaches nothing and writes nothing on the host", async () => {
    const { created, run } = await runOnce(stack, token, {
      runtime: "python",
      requirements: ["evil-pth==1.0"],
      code: "import evil_pth; print(evil_pth.REACHED, evil_pth.WROTE)",
      timeout: 60,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(run?.json.stdout, JSON.stringify(run?.json)).toBe("blocked no-write\n");
    expect(listenerConnections).toBe(0);
    expect(existsSync(hostMarker)).toBe(false);
    expect(index.requested.some((url) => url.startsWith("/files/evil_pth"))).toBe(true);
  }, 300_000);

  it("deleting a sandbox mid-build stops its build: the fetch container is removed at once", async () => {
    const buildContainers = () =>
      execFileSync("docker", ["ps", "-aq", "--filter", `label=${REQUIREMENTS_LABEL}=build`, "--filter", `label=sandpit.instance=${instanceId}`], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean);
    const requestedBefore = index.requested.filter((url) => url.startsWith("/files/evil_hang")).length;
    const creating = api(stack, token, "POST", "/sandboxes", { runtime: "python", requirements: ["evil-hang==1.0"], code: "1", timeout: 60 });
    let deadline = Date.now() + 60_000;
    while (index.requested.filter((url) => url.startsWith("/files/evil_hang")).length === requestedBefore && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(buildContainers().length, "no fetch container while the download hangs").toBeGreaterThan(0);
    // POST /sandboxes answers only once the sandbox is ready or failed: its id comes from the stack's database.
    const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true });
    const { id } = db.prepare("select id from sandboxes where status = 'creating' order by seq desc limit 1").get() as { id: string };
    db.close();
    const deletedAt = Date.now();
    expect((await api(stack, token, "DELETE", `/sandboxes/${id}`)).status).toBeLessThan(300);
    deadline = Date.now() + 10_000;
    while (buildContainers().length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(buildContainers(), "the build went on after its only sandbox was deleted").toEqual([]);
    expect(Date.now() - deletedAt).toBeLessThan(10_000);
    const answer = await creating;
    expect(answer.status, JSON.stringify(answer.json)).toBe(409);
    expect(answer.json.error).toMatch(/deleted before it was ready/);
  }, 120_000);

  it("a worker killed mid-build: the next worker's recovery removes the build's containers; no image is left", async () => {
    const buildContainers = () =>
      execFileSync("docker", ["ps", "-aq", "--filter", `label=${REQUIREMENTS_LABEL}=build`, "--filter", `label=sandpit.instance=${instanceId}`], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean);
    const hangRequests = () => index.requested.filter((url) => url.startsWith("/files/evil_hang")).length;
    const requestedBefore = hangRequests();
    const abort = new AbortController();
    const creating = fetch(`${stack.baseUrl}/api/v1/sandboxes`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ runtime: "python", requirements: ["evil-hang==1.0"], code: "1", timeout: 60 }),
      signal: abort.signal,
    }).catch(() => null);
    let deadline = Date.now() + 60_000;
    while (hangRequests() === requestedBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hangRequests(), "the download never started").toBeGreaterThan(requestedBefore);
    expect(buildContainers().length, "no labelled fetch container while the download hangs").toBeGreaterThan(0);
    // The fetch step runs under gVisor too: the runtime setup registers with host Unix sockets allowed (--host-uds=open).
    const fetchRuntimes = execFileSync("docker", ["inspect", "--format", "{{.HostConfig.Runtime}}", ...buildContainers()], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    expect(new Set(fetchRuntimes)).toEqual(new Set(["runsc-uds"]));
    const proxyDirs = () => readdirSync(os.tmpdir()).filter((name) => name.startsWith("sandpit-proxy-"));
    const hangingProxyDirs = proxyDirs();
    expect(hangingProxyDirs.length, "no proxy socket folder while the download hangs").toBeGreaterThan(0);

    for (const worker of [...stack.workers]) await stack.killWorker(worker, "SIGKILL");
    await stack.startWorker();
    deadline = Date.now() + 30_000;
    while (buildContainers().length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(buildContainers()).toEqual([]);
    abort.abort();
    await creating;
    // The dead worker's proxy socket folder goes with the next build (here one pip refuses).
    const next = await api(stack, token, "POST", "/sandboxes", { runtime: "python", requirements: ["evil-sdist==1.0"], code: "1", timeout: 60 });
    expect(next.status).toBe(400);
    expect(proxyDirs().filter((name) => hangingProxyDirs.includes(name))).toEqual([]);
    const tag = requirementsImageTag(
      {
        imagePrefix: "sandpit/",
        runtime: "python",
        requirements: ["evil-hang==1.0"],
        pipIndexUrl: `${index.origin}/simple`,
        npmRegistry: "https://registry.npmjs.org/",
      },
      "sandpit/python",
    );
    expect(spawnSync("docker", ["image", "inspect", tag], { stdio: "ignore" }).status, `${tag} exists`).not.toBe(0);
  }, 180_000);
});

describe("an install past REQUIREMENTS_BUILD_TIMEOUT_S", () => {
  let stack: Stack;
  let token: string;
  const instanceId = `requirements-timeout-${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    stack = await startStack({
      containerRuntime: "runc",
      workerEnv: { INSTANCE_ID: instanceId, REQUIREMENTS_BUILD_TIMEOUT_S: "2" },
    });
    [token] = await createTokens(stack.dataDir, ["timeout"]);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("ends with a 400 naming the timeout, and leaves no build container or image", async () => {
    // An 18 MB wheel: pip cannot fetch and install it within 2 s.
    const started = Date.now();
    const created = await api(stack, token, "POST", "/sandboxes", { runtime: "python", requirements: ["numpy==1.26.4"], code: "1", timeout: 60 });
    expect(created.status, JSON.stringify(created.json)).toBe(400);
    expect(created.json.error).toContain("took longer than 2 s");
    expect(Date.now() - started).toBeLessThan(30_000);
    // The fetch and install containers carry the requirements label (valued "build") and this stack's instance.
    const buildContainers = () =>
      execFileSync("docker", ["ps", "-aq", "--filter", `label=${REQUIREMENTS_LABEL}=build`, "--filter", `label=sandpit.instance=${instanceId}`], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean);
    const deadline = Date.now() + 30_000;
    while (buildContainers().length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(buildContainers()).toEqual([]);
    const tag = requirementsImageTag(
      {
        imagePrefix: "sandpit/",
        runtime: "python",
        requirements: ["numpy==1.26.4"],
        pipIndexUrl: "https://pypi.org/simple",
        npmRegistry: "https://registry.npmjs.org/",
      },
      "sandpit/python",
    );
    expect(spawnSync("docker", ["image", "inspect", tag], { stdio: "ignore" }).status, `${tag} exists`).not.toBe(0);
  }, 120_000);
});
