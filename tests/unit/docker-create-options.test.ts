import { describe, expect, it } from "vitest";
import { buildContainerSpec, type ContainerRequest } from "@/worker/container/build-container-spec";
import { DEFAULT_HARDENING, type HardeningPolicy } from "@/worker/container/hardening-policy";
import { toDockerCreateOptions } from "@/worker/engine/docker-engine";
import before from "./fixtures/docker-create-options.json";

/**
 * The fixture is what buildContainerSpec returned when it still built Docker's create options itself: the
 * engine-neutral ContainerSpec, translated by the Docker engine, must ask Docker for exactly the same.
 */
const base = { workerId: "w1", instanceId: "i1", image: "sandpit/python", memoryMb: 256 };
const cases: Record<keyof typeof before, [ContainerRequest, HardeningPolicy]> = {
  runRunsc: [{ ...base, role: { run: "r1" }, cpus: 1, containerRuntime: "runsc" }, DEFAULT_HARDENING],
  poolRunc: [{ ...base, role: { pool: true }, cpus: 0.5, containerRuntime: "runc" }, DEFAULT_HARDENING],
  sandboxModel: [
    { ...base, role: { sandbox: "s1" }, cpus: 2, containerRuntime: "runsc", model: { hostPath: "/srv/models/Qwen/Qwen3-8B", name: "Qwen/Qwen3-8B" } },
    { ...DEFAULT_HARDENING, env: [...DEFAULT_HARDENING.env, "FOO=bar"] },
  ],
  fetchProxy: [
    {
      ...base,
      image: "sandpit/node",
      memoryMb: 2048,
      role: { sandbox: "s2" },
      cpus: 1,
      containerRuntime: "runsc",
      registryProxy: { hostDir: "/tmp/sandpit-proxy-x", mountPath: "/run/sandpit-proxy" },
    },
    { ...DEFAULT_HARDENING, tmpfsMb: 768, fsizeMb: 512, runscDockerRuntime: "runsc-uds" },
  ],
};

describe("toDockerCreateOptions", () => {
  for (const [name, [request, policy]] of Object.entries(cases)) {
    it(`asks Docker for the same hardened container as before the engine-neutral spec (${name})`, () => {
      expect(toDockerCreateOptions(buildContainerSpec(request, policy))).toEqual(before[name as keyof typeof before]);
    });
  }

  it("never turns Docker's seccomp profile off and never runs privileged", () => {
    for (const [request, policy] of Object.values(cases)) {
      const options = toDockerCreateOptions(buildContainerSpec(request, policy));
      expect(JSON.stringify(options.HostConfig!.SecurityOpt)).not.toMatch(/seccomp|apparmor/);
      expect(options.HostConfig).toMatchObject({ Privileged: false, CapDrop: ["ALL"], NetworkMode: "none", ReadonlyRootfs: true });
      expect(options.HostConfig!.Binds).toBeUndefined();
    }
  });
});
