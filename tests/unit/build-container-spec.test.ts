import { describe, expect, it } from "vitest";
import { buildContainerSpec } from "@/worker/container/build-container-spec";
import { DEFAULT_HARDENING } from "@/worker/container/hardening-policy";

const MB = 1024 * 1024;

describe("buildContainerSpec", () => {
  const spec = buildContainerSpec(
    { role: { run: "run1" }, workerId: "w1", instanceId: "i1", image: "sandpit/python", memoryMb: 256, cpus: 1, containerRuntime: "runsc" },
    DEFAULT_HARDENING,
  );

  it("applies every hardening setting", () => {
    expect(spec).toMatchObject({
      user: "1000:1000",
      runtime: "runsc",
      network: "none",
      readOnlyRoot: true,
      capDrop: ["ALL"],
      noNewPrivileges: true,
      seccomp: "engine-default",
      ipc: "private",
      oomScoreAdj: 1000,
      mounts: [],
    });
    // runsc: the pids cap also holds gVisor's own host threads (hardening-policy.ts).
    expect(spec.limits).toEqual({ memoryBytes: 256 * MB, swapBytes: 0, cpus: 1, pids: 512, nofile: 256, fsizeBytes: 64 * MB, shmBytes: 16 * MB });
    expect(spec.tmpfs).toEqual([
      { path: "/sandbox", sizeMb: 64, inodes: 16384, mode: "0700", owner: { uid: 1000, gid: 1000 }, exec: true, nosuid: true, nodev: true },
      { path: "/tmp", sizeMb: 64, inodes: 16384, mode: "1777", exec: true, nosuid: true, nodev: true },
    ]);
  });

  it("gives a requirements fetch container its proxy socket folder read-only, and stays offline", () => {
    const fetcher = buildContainerSpec(
      {
        role: { sandbox: "sb1" },
        workerId: "w1",
        instanceId: "i1",
        image: "sandpit/node",
        memoryMb: 2048,
        cpus: 1,
        containerRuntime: "runc",
        registryProxy: { hostDir: "/tmp/sandpit-proxy-x", mountPath: "/run/sandpit-proxy" },
      },
      DEFAULT_HARDENING,
    );
    expect(fetcher.mounts).toEqual([{ source: "/tmp/sandpit-proxy-x", target: "/run/sandpit-proxy", readOnly: true }]);
    expect(fetcher).toMatchObject({ network: "none", readOnlyRoot: true, capDrop: ["ALL"], runtime: "runc" });
    expect(fetcher.labels).toMatchObject({ "sandpit.sandbox": "sb1", "sandpit.instance": "i1", "sandpit.managed": "1" });
  });

  it("mounts a chosen model read-only and nothing else, with the run's CPU share", () => {
    const withModel = buildContainerSpec(
      {
        role: { run: "run1" },
        workerId: "w1",
        instanceId: "i1",
        image: "sandpit/python",
        memoryMb: 256,
        cpus: 0.5,
        model: { hostPath: "/srv/models/Qwen/Qwen3-8B", name: "Qwen/Qwen3-8B" },
        containerRuntime: "runc",
      },
      DEFAULT_HARDENING,
    );
    expect(withModel.limits.cpus).toBe(0.5);
    expect(withModel.limits.pids).toBe(128);
    expect(withModel.mounts).toEqual([{ source: "/srv/models/Qwen/Qwen3-8B", target: "/models/Qwen/Qwen3-8B", readOnly: true }]);
  });

  it("passes only the policy's environment and labels the container with its run", () => {
    expect(spec.env).toEqual(DEFAULT_HARDENING.env);
    expect(spec.labels).toEqual({ "sandpit.managed": "1", "sandpit.instance": "i1", "sandpit.run": "run1", "sandpit.worker": "w1" });
  });
});

describe("buildContainerSpec roles", () => {
  const base = { workerId: "w1", instanceId: "i1", image: "sandpit/python", memoryMb: 256, cpus: 1, containerRuntime: "runc" as const };

  it("gives single-use containers the warm agent with stdin attached, labelled with their run or the pool", () => {
    const forRun = buildContainerSpec({ ...base, role: { run: "r1" } }, DEFAULT_HARDENING);
    const pooled = buildContainerSpec({ ...base, role: { pool: true } }, DEFAULT_HARDENING);
    for (const spec of [forRun, pooled]) {
      expect(spec.cmd).toEqual(["/opt/sandpit/warm"]);
      expect(spec.stdin).toBe(true);
    }
    expect(forRun.labels).toMatchObject({ "sandpit.run": "r1" });
    expect(forRun.labels).not.toHaveProperty("sandpit.pool");
    expect(pooled.labels).toMatchObject({ "sandpit.pool": "1", "sandpit.worker": "w1" });
    expect(pooled.labels).not.toHaveProperty("sandpit.run");
    // A pool container is hardened exactly as one made for a run.
    const { labels: _forRunLabels, ...forRunRest } = forRun;
    const { labels: _pooledLabels, ...pooledRest } = pooled;
    expect(pooledRest).toEqual(forRunRest);
  });

  it("gives a sandbox an idle command, no attached stdin and its own label", () => {
    const spec = buildContainerSpec({ ...base, role: { sandbox: "s1" } }, DEFAULT_HARDENING);
    expect(spec.cmd).toEqual(["sleep", "infinity"]);
    expect(spec.stdin).toBe(false);
    expect(spec.labels).toMatchObject({ "sandpit.sandbox": "s1" });
    expect(spec.labels).not.toHaveProperty("sandpit.run");
  });
});
