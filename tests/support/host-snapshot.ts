import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statfsSync } from "node:fs";
import { expect } from "vitest";
import { waitUntil } from "./docker-probe";

/**
 * The host as a test sees it from outside: what one Sandpit instance left behind (containers, processes)
 * and what the whole machine has (free disk, memory, process count). Attack tests take a snapshot before,
 * and after the attack check that everything settled back.
 */
export type HostSnapshot = {
  freeDiskBytes: Record<string, number>;
  availableMemoryBytes: number;
  hostPids: number;
};

export type CleanHostOptions = {
  /** Other agents and tests share this machine: margins are for their noise, not ours. */
  diskMarginBytes?: number;
  memoryMarginBytes?: number;
  pidMargin?: number;
  settleMs?: number;
};

const DISK_PATHS = ["/var/lib/docker", "/tmp"];
const GiB = 1024 ** 3;
/** Far above any pool size a test configures: a leak would grow past it. */
const MAX_IDLE_POOL = 40;

function countHostPids(): number {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).length;
}

function availableMemory(): number {
  const line = readFileSync("/proc/meminfo", "utf8").match(/^MemAvailable:\s+(\d+) kB/m);
  return Number(line?.[1] ?? 0) * 1024;
}

export function takeSnapshot(): HostSnapshot {
  return {
    freeDiskBytes: Object.fromEntries(DISK_PATHS.map((path) => [path, Number(statfsSync(path).bavail) * Number(statfsSync(path).bsize)])),
    availableMemoryBytes: availableMemory(),
    hostPids: countHostPids(),
  };
}

/**
 * Watches one instance's containers from Docker's event stream (so it knows the ids of containers that are
 * already removed) and finds host processes that belong to any of them: the container's own processes
 * (their cgroup names the id), containerd shims and runsc sandbox/gofer processes (their command line does).
 */
export class HostWatch {
  private readonly containerIds = new Set<string>();
  private readonly events: ChildProcess;
  private buffered = "";

  private constructor(
    readonly instanceId: string,
    since: number,
  ) {
    this.events = spawn(
      "docker",
      ["events", "--since", String(since), "--filter", "type=container", "--filter", `label=sandpit.instance=${instanceId}`, "--format", "{{.ID}}"],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    this.events.stdout!.on("data", (data: Buffer) => {
      this.buffered += data.toString();
      const lines = this.buffered.split("\n");
      this.buffered = lines.pop()!;
      for (const id of lines) if (/^[0-9a-f]{64}$/.test(id)) this.containerIds.add(id);
    });
  }

  /** Starts watching from a second before now, so nothing created at the same moment is missed. */
  static start(instanceId: string): HostWatch {
    return new HostWatch(instanceId, Math.floor(Date.now() / 1000) - 1);
  }

  /** Every container of this instance that Docker still has, in any state. */
  private listContainers(): { id: string; state: string; pooled: boolean }[] {
    const output = execFileSync(
      "docker",
      ["ps", "-a", "--no-trunc", "--filter", `label=sandpit.instance=${this.instanceId}`, "--format", '{{.ID}} {{.State}} {{.Label "sandpit.pool"}}'],
      { encoding: "utf8" },
    );
    return output
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id, state, pool] = line.split(" ");
        this.containerIds.add(id);
        return { id, state, pooled: pool === "1" };
      });
  }

  /**
   * Idle warm-pool containers: labelled as pool members, created or running. They are meant to outlive runs; a pool
   * container that served a run has exited (its program was its main process) and no longer counts as idle.
   */
  private idlePool(): Set<string> {
    return new Set(
      this.listContainers()
        .filter((c) => c.pooled && (c.state === "running" || c.state === "created"))
        .map((c) => c.id),
    );
  }

  /** Containers of this instance that Docker still has, in any state, apart from idle warm-pool containers. */
  liveContainers(): string[] {
    return this.listContainers()
      .filter((c) => !(c.pooled && (c.state === "running" || c.state === "created")))
      .map((c) => c.id);
  }

  /** The host cpu cgroup of each running container of this instance: its CFS quota and the processes in it. */
  cpuCgroups(): { id: string; quotaUs: number; periodUs: number; commands: string[] }[] {
    return this.listContainers()
      .filter((c) => c.state === "running")
      .flatMap((c) => {
        const dir = `/sys/fs/cgroup/cpu/docker/${c.id}`;
        try {
          const pids = readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean);
          const commands = pids.map((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
            } catch {
              return "";
            }
          });
          const quotaUs = Number(readFileSync(`${dir}/cpu.cfs_quota_us`, "utf8"));
          const periodUs = Number(readFileSync(`${dir}/cpu.cfs_period_us`, "utf8"));
          return [{ id: c.id, quotaUs, periodUs, commands }];
        } catch {
          return []; // gone while we looked
        }
      });
  }

  seenContainers(): number {
    return this.containerIds.size;
  }

  /** Host processes that belong to a container of this instance, as `pid command`. */
  leftoverProcesses(): string[] {
    const idle = this.idlePool();
    const ids = [...this.containerIds].filter((id) => !idle.has(id));
    if (ids.length === 0) return [];
    const found: string[] = [];
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      let cgroup: string;
      let cmdline: string;
      try {
        cgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      } catch {
        continue; // exited while we looked
      }
      if (ids.some((id) => cgroup.includes(id) || cmdline.includes(id))) found.push(`${pid} ${cmdline.slice(0, 160)}`);
    }
    return found;
  }

  /**
   * Waits (polling, bounded) for the instance's containers and their processes to be gone and for the host's
   * disk, memory and process count to come back near `before`, then asserts each of them.
   */
  async expectClean(before: HostSnapshot, options: CleanHostOptions = {}): Promise<void> {
    const diskMargin = options.diskMarginBytes ?? 512 * 1024 ** 2;
    const memoryMargin = options.memoryMarginBytes ?? 3 * GiB;
    const pidMargin = options.pidMargin ?? 300;
    const measure = () => ({ now: takeSnapshot(), containers: this.liveContainers(), processes: this.leftoverProcesses(), idlePool: this.idlePool().size });
    let last = measure();
    const settled = () => {
      last = measure();
      return (
        last.containers.length === 0 &&
        last.processes.length === 0 &&
        last.now.hostPids <= before.hostPids + pidMargin &&
        last.now.availableMemoryBytes >= before.availableMemoryBytes - memoryMargin &&
        DISK_PATHS.every((path) => last.now.freeDiskBytes[path] >= before.freeDiskBytes[path] - diskMargin)
      );
    };
    await waitUntil(settled, options.settleMs ?? 30_000, 250);
    // Asserted on the last observation the wait made, so a pool container changing state in between cannot race it.
    expect(last.containers, "containers of this instance left behind").toEqual([]);
    expect(last.idlePool, "idle warm-pool containers").toBeLessThanOrEqual(MAX_IDLE_POOL);
    expect(last.processes, "host processes of this instance's containers left behind").toEqual([]);
    expect(last.now.hostPids, "host process count").toBeLessThanOrEqual(before.hostPids + pidMargin);
    expect(last.now.availableMemoryBytes, "available host memory").toBeGreaterThanOrEqual(before.availableMemoryBytes - memoryMargin);
    for (const path of DISK_PATHS)
      expect(last.now.freeDiskBytes[path], `free disk under ${path}`).toBeGreaterThanOrEqual(before.freeDiskBytes[path] - diskMargin);
  }

  stop(): void {
    this.events.kill();
  }
}
