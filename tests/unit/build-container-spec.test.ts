import { describe, expect, it } from "vitest";
import { buildContainerSpec } from "@/worker/container/build-container-spec";
import { DEFAULT_HARDENING } from "@/worker/container/hardening-policy";

describe("buildContainerSpec", () => {
  const spec = buildContainerSpec(
    { role: { run: "run1" }, workerId: "w1", instanceId: "i1", image: "sandpit/python", memoryMb: 256, containerRuntime: "runsc" },
    DEFAULT_HARDENING,
  );

  it("applies every hardening setting", () => {
    expect(spec.User).toBe("1000:1000");
    expect(spec.NetworkDisabled).toBe(true);
    expect(spec.HostConfig).toMatchObject({
      Runtime: "runsc",
      NetworkMode: "none",
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      // runsc: the cap also holds gVisor's own host threads (hardening-policy.ts).
      PidsLimit: 512,
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
      NanoCpus: 1e9,
      OomScoreAdj: 1000,
      Privileged: false,
    });
    expect(spec.HostConfig!.Ulimits).toEqual([
      { Name: "nofile", Soft: 256, Hard: 256 },
      { Name: "fsize", Soft: 64 * 1024 * 1024, Hard: 64 * 1024 * 1024 },
    ]);
    expect(spec.HostConfig!.Tmpfs!["/sandbox"]).toMatch(/size=64m/);
    expect(spec.HostConfig!.Binds).toBeUndefined();
    expect(spec.HostConfig!.Mounts).toEqual([]);
    expect(JSON.stringify(spec.HostConfig!.SecurityOpt)).not.toMatch(/unconfined/);
  });

  it("gives a requirements fetch container its proxy socket folder read-only, and stays offline", () => {
    const fetcher = buildContainerSpec(
      {
        role: { sandbox: "sb1" },
        workerId: "w1",
        instanceId: "i1",
        image: "sandpit/node",
        memoryMb: 2048,
        containerRuntime: "runc",
        registryProxy: { hostDir: "/tmp/sandpit-proxy-x", mountPath: "/run/sandpit-proxy" },
      },
      DEFAULT_HARDENING,
    );
    expect(fetcher.HostConfig!.Mounts).toEqual([{ Type: "bind", Source: "/tmp/sandpit-proxy-x", Target: "/run/sandpit-proxy", ReadOnly: true }]);
    expect(fetcher.HostConfig).toMatchObject({ NetworkMode: "none", ReadonlyRootfs: true, CapDrop: ["ALL"], Runtime: "runc" });
    expect(fetcher.Labels).toMatchObject({ "sandpit.sandbox": "sb1", "sandpit.instance": "i1", "sandpit.managed": "1" });
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
    expect(withModel.HostConfig!.NanoCpus).toBe(5e8);
    expect(withModel.HostConfig!.Mounts).toEqual([
      { Type: "bind", Source: "/srv/models/Qwen/Qwen3-8B", Target: "/models/Qwen/Qwen3-8B", ReadOnly: true },
    ]);
  });

  it("passes only the policy's environment and labels the container with its run", () => {
    expect(spec.Env).toEqual(DEFAULT_HARDENING.env);
    expect(spec.Labels).toEqual({ "sandpit.managed": "1", "sandpit.instance": "i1", "sandpit.run": "run1", "sandpit.worker": "w1" });
  });
});

describe("buildContainerSpec roles", () => {
  const base = { workerId: "w1", instanceId: "i1", image: "sandpit/python", memoryMb: 256, containerRuntime: "runc" as const };

  it("gives single-use containers the warm agent with stdin attached, labelled with their run or the pool", () => {
    const forRun = buildContainerSpec({ ...base, role: { run: "r1" } }, DEFAULT_HARDENING);
    const pooled = buildContainerSpec({ ...base, role: { pool: true } }, DEFAULT_HARDENING);
    for (const spec of [forRun, pooled]) {
      expect(spec.Cmd).toEqual(["/opt/sandpit/warm"]);
      expect(spec).toMatchObject({ OpenStdin: true, StdinOnce: true, AttachStdin: true });
    }
    expect(forRun.Labels).toMatchObject({ "sandpit.run": "r1" });
    expect(forRun.Labels).not.toHaveProperty("sandpit.pool");
    expect(pooled.Labels).toMatchObject({ "sandpit.pool": "1", "sandpit.worker": "w1" });
    expect(pooled.Labels).not.toHaveProperty("sandpit.run");
    // A pool container is hardened exactly as one made for a run.
    expect(pooled.HostConfig).toEqual(forRun.HostConfig);
  });

  it("gives a sandbox an idle command, no attached stdin and its own label", () => {
    const spec = buildContainerSpec({ ...base, role: { sandbox: "s1" } }, DEFAULT_HARDENING);
    expect(spec.Cmd).toEqual(["sleep", "infinity"]);
    expect(spec).toMatchObject({ OpenStdin: false, AttachStdin: false });
    expect(spec.Labels).toMatchObject({ "sandpit.sandbox": "s1" });
    expect(spec.Labels).not.toHaveProperty("sandpit.run");
  });
});
