import { execFileSync, spawnSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { waitUntil } from "./docker-probe";

/**
 * A Docker daemon of the test's own, so a test can kill and restart it without touching the shared one
 * that other tests use. Its data root is kept between test runs (images load once); its exec root,
 * socket and managed containerd live under one folder in /run that is removed at the end.
 */
export type PrivateDockerd = {
  socketPath: string;
  execRoot: string;
  pid(): number | null;
  /** `docker -H <private socket> …`, synchronously. */
  docker(args: string[]): string;
  /** Kills the daemon (SIGKILL by default, like a crash) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  /** Processes (pid, argv) that belong to this daemon: dockerd, its containerd, shims, runsc. */
  processes(): { pid: number; argv: string[] }[];
  stop(): Promise<void>;
};

const BASE = "/run/sandpit-test-dockerd";
const DATA_ROOT = "/var/lib/sandpit-test-docker";

function allProcesses(): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      if (argv.length) found.push({ pid: Number(entry), argv });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // A zombie has no cmdline; count it as gone.
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").length > 0;
  } catch {
    return false;
  }
};

export async function startPrivateDockerd(images: string[]): Promise<PrivateDockerd> {
  const runRoot = BASE;
  const execRoot = path.join(runRoot, "exec");
  const socketPath = path.join(runRoot, "docker.sock");
  const pidFile = path.join(runRoot, "docker.pid");
  const configFile = path.join(runRoot, "daemon.json");
  const logFile = path.join(runRoot, "dockerd.log");
  let daemonPid: number | null = null;

  const processes = () =>
    allProcesses().filter(
      ({ argv }) => argv.some((arg) => arg.includes(runRoot)) || (argv[0] === "dockerd" && argv.includes(`--data-root`) && argv.includes(DATA_ROOT)),
    );
  const docker = (args: string[]) => execFileSync("docker", ["-H", `unix://${socketPath}`, ...args], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });

  const killAll = async () => {
    // The daemon first (so it restarts nothing), then whatever it left: containerd, shims, runsc.
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      const daemons = processes().filter(({ argv }) => argv[0] === "dockerd");
      for (const { pid } of daemons) process.kill(pid, signal);
      if (await waitUntil(() => daemons.every(({ pid }) => !alive(pid)), 15_000)) break;
    }
    for (const { pid } of processes()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    await waitUntil(() => processes().every(({ pid }) => !alive(pid)), 10_000);
    daemonPid = null;
  };

  const start = async () => {
    mkdirSync(runRoot, { recursive: true });
    ensurePrivateBridge();
    const log = openSync(logFile, "a");
    const child = spawn(
      "dockerd",
      [
        "--config-file",
        configFile,
        "--host",
        `unix://${socketPath}`,
        "--data-root",
        DATA_ROOT,
        "--exec-root",
        execRoot,
        "--pidfile",
        pidFile,
        // Its own bridge: with "--bridge none" dockerd deletes the host's docker0, which the shared daemon needs.
        "--bridge",
        PRIVATE_BRIDGE,
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
      ],
      { detached: true, stdio: ["ignore", log, log] },
    );
    child.unref();
    closeSync(log);
    daemonPid = child.pid ?? null;
    const up = await waitUntil(
      () => {
        try {
          docker(["version", "--format", "{{.Server.Version}}"]);
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      250,
    );
    if (!up) throw new Error(`private dockerd did not come up:\n${readLog(logFile)}`);
  };

  // A daemon left by an earlier, interrupted test run goes first.
  await killAll();
  unmountUnder(runRoot);
  rmSync(runRoot, { recursive: true, force: true });
  mkdirSync(runRoot, { recursive: true });
  mkdirSync(DATA_ROOT, { recursive: true });
  // The same runtimes as the shared daemon, as scripts/host-setup.sh registered them (the current runsc and its
  // flags), so a test against this daemon exercises the gVisor build that production uses.
  const sharedRuntimes = (JSON.parse(readFileSync("/etc/docker/daemon.json", "utf8")) as { runtimes?: Record<string, unknown> }).runtimes;
  if (!sharedRuntimes?.runsc) throw new Error("/etc/docker/daemon.json registers no runsc: run scripts/host-setup.sh");
  writeFileSync(
    configFile,
    JSON.stringify({
      "storage-driver": "overlay2",
      "exec-opts": ["native.cgroupdriver=cgroupfs"],
      "log-level": "warn",
      runtimes: sharedRuntimes,
    }),
  );
  await start();

  // Load the images unless this data root already has the same ones.
  const imageId = (args: string[], image: string) => {
    try {
      return execFileSync("docker", [...args, "image", "inspect", "--format", "{{.Id}}", image], { encoding: "utf8", stdio: "pipe" }).trim();
    } catch {
      return null;
    }
  };
  const missing = images.filter((image) => imageId(["-H", `unix://${socketPath}`], image) !== imageId([], image));
  if (missing.length) {
    execFileSync("sh", ["-c", `docker save ${missing.join(" ")} | docker -H unix://${socketPath} load`], { stdio: "pipe" });
  }
  // Leftover containers from an interrupted run.
  const stale = docker(["ps", "-aq"]).split("\n").filter(Boolean);
  if (stale.length) docker(["rm", "-f", ...stale]);

  return {
    socketPath,
    execRoot,
    pid: () => (daemonPid !== null && alive(daemonPid) ? daemonPid : null),
    docker,
    processes,
    start,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      const pid = daemonPid;
      if (pid === null) return;
      process.kill(pid, signal);
      await waitUntil(() => !alive(pid), 30_000);
      daemonPid = null;
    },
    async stop() {
      // Through the daemon, so the containers' own processes go too (killing a shim would orphan them).
      try {
        if (daemonPid === null || !alive(daemonPid)) await start();
        const left = docker(["ps", "-aq"]).split("\n").filter(Boolean);
        if (left.length) docker(["rm", "-f", ...left]);
      } catch {
        // the daemon cannot come back: killAll reaps what it left
      }
      await killAll();
      unmountUnder(runRoot);
      rmSync(runRoot, { recursive: true, force: true });
      spawnSync("ip", ["link", "delete", PRIVATE_BRIDGE], { stdio: "ignore" });
    },
  };
}

/** A bridge for the private daemon alone (its containers have no network; the daemon just needs one). */
const PRIVATE_BRIDGE = "sandpit-tdd0";

function ensurePrivateBridge(): void {
  if (spawnSync("ip", ["link", "show", PRIVATE_BRIDGE], { stdio: "ignore" }).status === 0) return;
  execFileSync("ip", ["link", "add", PRIVATE_BRIDGE, "type", "bridge"]);
  // An address only on this host's own bridge; nothing is ever sent to it.
  execFileSync("ip", ["addr", "add", "192.168.213.1/24", "dev", PRIVATE_BRIDGE]);
  execFileSync("ip", ["link", "set", PRIVATE_BRIDGE, "up"]);
}

/** Docker bind-mounts network namespace files under its exec root; they outlive a killed daemon. */
function unmountUnder(folder: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((mountPoint): mountPoint is string => Boolean(mountPoint?.startsWith(folder + "/")))
    .reverse();
  for (const mountPoint of mounts) {
    try {
      execFileSync("umount", ["-l", mountPoint], { stdio: "pipe" });
    } catch {
      // already gone
    }
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(-4000);
  } catch {
    return "(no log)";
  }
}
