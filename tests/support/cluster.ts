import Database from "better-sqlite3";
import { execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, launch, removeContainersOfInstance, ROOMY_SHARES, waitForLine, webUserIds, type ContainerRuntime } from "./stack";

/**
 * Sandpit laid out as on several hosts, on this one: N web servers and M workers as separate processes that
 * share only what separate hosts would share (the database, and Redis when REDIS_URL is given) and a worker
 * secret. Each worker links to one web server (WEB_URL), as a worker on another host would.
 */
export type ClusterOptions = {
  containerRuntime: ContainerRuntime;
  webServers: number;
  workers: number;
  /** Given to every process: DATABASE_URL, REDIS_URL. Unset: one SQLite file in the shared DATA_DIR. */
  sharedEnv?: Record<string, string>;
  webEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
};

export type ClusterWorker = {
  /** WORKER_ID: what the runs table records in worker_id. */
  id: string;
  /** The index of the web server this worker links to. */
  webIndex: number;
  process: ChildProcess;
};

export type Cluster = {
  webUrls: string[];
  dataDir: string;
  /** INSTANCE_ID of every worker: the label on all their containers. */
  instanceId: string;
  workers: ClusterWorker[];
  /** Rows of a read-only query on the shared database (snake_case columns, the same in both dialects). */
  query<Row>(sql: string): Row[];
  /** API tokens, one per name, made with the library call `npm run token -- create` makes. */
  createTokens(names: string[]): Promise<string[]>;
  kill(worker: ClusterWorker, signal?: NodeJS.Signals): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
};

const root = path.resolve(import.meta.dirname, "../..");

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs))]);
  if (alive(child)) child.kill("SIGKILL");
  await exited;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-cluster-"));
  if (process.getuid?.() === 0) {
    const { uid, gid } = webUserIds();
    chownSync(dataDir, uid, gid);
  }
  const suffix = randomBytes(4).toString("hex");
  const instanceId = `cluster-${suffix}`;
  const log: string[] = [];
  const shared = { DATA_DIR: dataDir, ...ROOMY_SHARES, ...options.sharedEnv };
  const ports = await Promise.all(Array.from({ length: options.webServers }, () => freePort()));
  const webUrls = ports.map((port) => `http://127.0.0.1:${port}`);
  const webs: ChildProcess[] = [];
  const workers: ClusterWorker[] = [];

  const startWeb = async (index: number) => {
    const env = { ...shared, PORT: String(ports[index]), HOST: "127.0.0.1", PUBLIC_URL: webUrls[index], ...options.webEnv };
    const web = launch("server.ts", env, log, `web-${index}`, true);
    webs.push(web);
    await waitForLine(web, /listening on/, 90_000, log);
  };
  const startWorker = async (index: number) => {
    const webIndex = index % options.webServers;
    const id = `w${index}-${suffix}`;
    const env = {
      ...shared,
      WEB_URL: webUrls[webIndex],
      WORKER_ID: id,
      INSTANCE_ID: instanceId,
      SANDBOX_RUNTIME: options.containerRuntime,
      ...options.workerEnv,
    };
    const worker = { id, webIndex, process: launch("worker/main.ts", env, log, `worker-${index}`) };
    workers.push(worker);
    await waitForLine(worker.process, /ready:/, 90_000, log);
  };

  try {
    // The first web server creates the database (migrations) alone; then everything else starts at once.
    await startWeb(0);
    await Promise.all([
      ...Array.from({ length: options.webServers - 1 }, (_, index) => startWeb(index + 1)),
      ...Array.from({ length: options.workers }, (_, index) => startWorker(index)),
    ]);
  } catch (error) {
    await Promise.all([...workers.map((worker) => stopProcess(worker.process, "SIGKILL", 0)), ...webs.map((web) => stopProcess(web, "SIGKILL", 0))]);
    removeContainersOfInstance(instanceId);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  // Worker order is start order above; callers index workers by their number.
  workers.sort((a, b) => Number(a.id.slice(1, a.id.indexOf("-"))) - Number(b.id.slice(1, b.id.indexOf("-"))));

  const databaseUrl = options.sharedEnv?.DATABASE_URL;
  const databasePath = path.join(dataDir, "sandpit.db");
  return {
    webUrls,
    dataDir,
    instanceId,
    workers,
    query<Row>(sql: string): Row[] {
      if (databaseUrl) {
        // psql (Debian's client, installed with the server) rather than a driver: the test reads what any operator could.
        const json = execFileSync("psql", [databaseUrl, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", `SELECT coalesce(json_agg(q), '[]') FROM (${sql}) q`], {
          encoding: "utf8",
        });
        return JSON.parse(json) as Row[];
      }
      const db = new Database(databasePath, { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all() as Row[];
      } finally {
        db.close();
      }
    },
    createTokens(names) {
      // Made by a process with the cluster's environment, so the tokens land in the database the cluster uses.
      const output = execFileSync(process.execPath, ["--import", "tsx", "tests/support/create-tokens-cli.ts", ...names], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", NODE_ENV: "production", ...shared },
        encoding: "utf8",
      });
      const tokens = output.trim().split("\n");
      if (tokens.length !== names.length) throw new Error(`expected ${names.length} tokens, got: ${output}`);
      return Promise.resolve(tokens);
    },
    async kill(worker, signal = "SIGKILL") {
      if (!alive(worker.process)) return;
      const exited = new Promise((resolve) => worker.process.once("exit", resolve));
      worker.process.kill(signal);
      await exited;
    },
    logs: () => log.join(""),
    async stop() {
      await Promise.all(workers.map((worker) => stopProcess(worker.process, "SIGTERM", 10_000)));
      await Promise.all(webs.map((web) => stopProcess(web, "SIGTERM", 5000)));
      removeContainersOfInstance(instanceId);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
