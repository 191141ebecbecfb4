import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
// Relative and `.js`, not `@/`: the SDKs' suites import this file too, with Node's resolution and no alias.
import { databaseIdentity } from "../../lib/db/database-dialect.js";
import { freshPostgresDatabase, testsOnPostgres } from "./postgres.js";

/**
 * A real Sandpit for tests: the production web server and one or more workers as child processes,
 * on a private port and a private database: SQLite, or when the tests run in PostgreSQL mode (DATABASE_URL set) a
 * fresh database on that server.
 */
export type ContainerRuntime = "runc" | "runsc";

export type StackOptions = {
  containerRuntime: ContainerRuntime;
  workers?: number;
  workerEnv?: Record<string, string>;
  webEnv?: Record<string, string>;
  /**
   * More web servers on the same database and DATA_DIR (so the same WORKER_SECRET), each on its own port; workers
   * connect to the first. Share Socket.IO and rate limits between them with REDIS_URL in webEnv.
   */
  extraWebServers?: number;
};

export type Stack = {
  baseUrl: string;
  /** Every web server's URL, baseUrl first. */
  webUrls: string[];
  dataDir: string;
  /** The stack's PostgreSQL database in PostgreSQL mode; undefined: the SQLite file in dataDir. */
  databaseUrl: string | undefined;
  workers: ChildProcess[];
  /** The web server's process id (the web user's, when the tests run as root). */
  webPid(): number;
  startWorker(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  killWorker(worker: ChildProcess, signal?: NodeJS.Signals): Promise<void>;
  /** Stops the web process (SIGTERM, then SIGKILL after a grace period, or `signal` at once) and starts it again on the same port. */
  restartWeb(signal?: NodeJS.Signals): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
};

const root = path.resolve(import.meta.dirname, "../..");

export const ROOMY_SHARES = {
  OWNER_MAX_QUEUED: "10000",
  OWNER_MAX_RUNNING: "1000",
  ANON_MAX_QUEUED: "10000",
  ANON_MAX_RUNNING: "1000",
  ANON_MAX_TIMEOUT_S: "3600",
  ANON_MAX_MEMORY_MB: "65536",
  ANON_MAX_VCPUS: "64",
};

/**
 * Whatever a killed worker left (warm pool containers, a run's container) belongs to this stack's
 * installation alone (worker/config.ts derives the instance id from the database path): remove it,
 * so no test leaves containers behind for the next.
 */
function removeInstanceContainers(databasePath: string, databaseUrl: string | undefined): void {
  removeContainersOfInstance(createHash("sha256").update(databaseIdentity(databasePath, databaseUrl)).digest("hex").slice(0, 16));
}

/** Every container (any state) labelled with this installation id. */
export function removeContainersOfInstance(instance: string): void {
  const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=sandpit.instance=${instance}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
  // A container the worker is removing right now makes `docker rm` fail ("removal already in progress"): fine.
  if (ids.length) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** The web process's unprivileged user (scripts/create-web-user.sh): the stack runs its web server as it, like `npm run up`. */
export const WEB_USER = "sandpit-web";

export function webUserIds(): { uid: number; gid: number } {
  const result = spawnSync("id", ["-u", WEB_USER], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`no ${WEB_USER} user: run scripts/host-setup.sh (it creates it)`);
  const gid = Number(execFileSync("id", ["-g", WEB_USER], { encoding: "utf8" }).trim());
  return { uid: Number(result.stdout.trim()), gid };
}

/** As root, `asWebUser` drops to the web user first (setpriv, as scripts/up.sh does). */
export function launch(script: string, env: Record<string, string>, log: string[], label: string, asWebUser = false): ChildProcess {
  const node = [process.execPath, "--import", "tsx", script];
  const argv =
    asWebUser && process.getuid?.() === 0 ? ["setpriv", `--reuid=${WEB_USER}`, `--regid=${WEB_USER}`, "--init-groups", "--no-new-privs", "--", ...node] : node;
  const child = spawn(argv[0], argv.slice(1), {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const append = (data: Buffer) => log.push(`[${label}] ${data.toString()}`);
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  return child;
}

export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}\n${log.join("")}`)), timeoutMs);
    const onData = (data: Buffer) => {
      seen += data.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before ${pattern}\n${log.join("")}`));
    });
  });
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-test-"));
  // DATA_DIR belongs to the web user (0700), as scripts/up.sh sets it up; the root worker uses it anyway.
  if (process.getuid?.() === 0) {
    const { uid, gid } = webUserIds();
    for (const dir of new Set([dataDir, options.webEnv?.DATA_DIR ?? dataDir])) chownSync(dir, uid, gid);
  }
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const log: string[] = [];
  // Tests predating fair shares send everything anonymously from one address: give that owner room unless a
  // test (fair-shares.test.ts) sets the limits it is about.
  const postgres = testsOnPostgres ? await freshPostgresDatabase() : undefined;
  const shared = { DATA_DIR: dataDir, ...ROOMY_SHARES, ...(postgres ? { DATABASE_URL: postgres.url } : {}) };
  const webEnv = { ...shared, PORT: String(port), HOST: "127.0.0.1", PUBLIC_URL: baseUrl, ...options.webEnv };
  let web = launch("server.ts", webEnv, log, "web", true);
  await waitForLine(web, /listening on/, 60_000, log);
  const extraWebs: ChildProcess[] = [];
  const webUrls = [baseUrl];
  for (let index = 1; index <= (options.extraWebServers ?? 0); index++) {
    const extraPort = await freePort();
    const url = `http://127.0.0.1:${extraPort}`;
    const extra = launch("server.ts", { ...webEnv, PORT: String(extraPort), PUBLIC_URL: url }, log, `web-${index}`, true);
    extraWebs.push(extra);
    webUrls.push(url);
    await waitForLine(extra, /listening on/, 60_000, log);
  }
  const stopWeb = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (web.exitCode !== null || web.signalCode !== null) return;
    const exited = new Promise((resolve) => web.once("exit", resolve));
    web.kill(signal);
    // Open WebSockets keep a SIGTERMed server from closing: give it a moment, then kill it.
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    web.kill("SIGKILL");
    await exited;
  };

  const workers: ChildProcess[] = [];
  const startWorker = async (extraEnv: Record<string, string> = {}) => {
    const worker = launch(
      "worker/main.ts",
      {
        ...shared,
        WEB_URL: baseUrl,
        SANDBOX_RUNTIME: options.containerRuntime,
        WORKER_CONCURRENCY: "2",
        ...options.workerEnv,
        ...extraEnv,
      },
      log,
      `worker-${workers.length}`,
    );
    workers.push(worker);
    await waitForLine(worker, /ready:/, 60_000, log);
    return worker;
  };
  for (let index = 0; index < (options.workers ?? 1); index++) await startWorker();

  const killWorker = async (worker: ChildProcess, signal: NodeJS.Signals = "SIGKILL") => {
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.kill(signal);
    await exited;
  };

  return {
    baseUrl,
    webUrls,
    dataDir,
    databaseUrl: postgres?.url,
    workers,
    webPid: () => web.pid!,
    startWorker,
    killWorker,
    async restartWeb(signal?: NodeJS.Signals) {
      await stopWeb(signal);
      web = launch("server.ts", webEnv, log, "web", true);
      await waitForLine(web, /listening on/, 60_000, log);
    },
    logs: () => log.join(""),
    async stop() {
      await Promise.all(workers.map((worker) => killWorker(worker, "SIGTERM")));
      await Promise.all(
        [web, ...extraWebs].map(async (each) => {
          if (each.exitCode !== null || each.signalCode !== null) return;
          const exited = new Promise((resolve) => each.once("exit", resolve));
          each.kill("SIGTERM");
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
          each.kill("SIGKILL");
        }),
      );
      removeInstanceContainers(path.join(dataDir, "sandpit.db"), postgres?.url);
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
