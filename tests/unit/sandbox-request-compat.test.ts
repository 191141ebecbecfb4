import { describe, expect, it } from "vitest";
import { describeIssues } from "@/lib/errors/sandpit-error";
import { runLimitsFor } from "@/lib/runs/check-owner-share";
import { addressOwner } from "@/lib/runs/run-owner";
import { runRequestSchema } from "@/lib/runs/run-request-schema";
import { GPU_SANDBOX_DEFAULTS, sandboxRequestSchema } from "@/lib/sandboxes/sandbox-request-schema";

const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4, lifetimeMaxS: 3600 };
const roomy = { ...limits, memoryMaxMb: 65_536, vcpusMax: 16 };
const parse = (body: unknown, settings = limits) => {
  const parsed = sandboxRequestSchema(settings).safeParse(body);
  return parsed.success ? { ok: true as const, data: parsed.data } : { ok: false as const, message: describeIssues(parsed.error) };
};

/** The seed's GPU snippet, as the published SDK sends it. */
const seedGpu = {
  name: "secure-agent-action",
  memory: 10000,
  timeout: 300,
  vcpus: 6,
  language: "python",
  requirements: ["transformers", "torch", "accelerate"],
  model: "Qwen/Qwen3-8B",
  code: 'python inference_script.py "hello"',
  gpu: "any",
};

describe("sandbox request: the published SDK's options", () => {
  it("takes cpu_cores / cpuCores for vcpus, env_variables for envVariables, gpu_count 1", () => {
    for (const alias of ["cpu_cores", "cpuCores"]) {
      const parsed = parse({ runtime: "python", code: "x", [alias]: 2 });
      expect(parsed.ok && parsed.data.vcpus).toBe(2);
    }
    const env = parse({ runtime: "python", code: "x", env_variables: [{ key: "A", value: "1" }] });
    expect(env.ok && env.data.env).toEqual({ A: "1" });
    const counted = parse({ runtime: "python", code: "x", gpu_count: 1 });
    expect(counted.ok && counted.data.gpu).toBe("any");
    const typed = parse({ runtime: "python", code: "x", gpu: "T4", gpuCount: 1 });
    expect(typed.ok && typed.data.gpu).toBe("T4");
  });

  it("refuses an alias given with its field, more than one GPU, and still unknown options", () => {
    const both = parse({ runtime: "python", code: "x", vcpus: 1, cpu_cores: 2 });
    expect(!both.ok && both.message).toMatch(/give vcpus or cpu_cores, not both/);
    const many = parse({ runtime: "python", code: "x", gpu_count: 2 });
    expect(!many.ok && many.message).toMatch(/must be 1: a sandbox gets one GPU/);
    const unknown = parse({ runtime: "python", code: "x", gpu_memory: 2 });
    expect(!unknown.ok && unknown.message).toMatch(/gpu_memory/);
  });
});

describe("sandbox request: GPU defaults and caps", () => {
  it("gives a GPU sandbox the published SDK's defaults where the server allows them", () => {
    const parsed = parse({ language: "python", code: "x", gpu: "T4" }, roomy);
    expect(parsed.ok && [parsed.data.memoryMb, parsed.data.vcpus, parsed.data.lifetimeS]).toEqual([
      GPU_SANDBOX_DEFAULTS.memoryMb,
      GPU_SANDBOX_DEFAULTS.vcpus,
      GPU_SANDBOX_DEFAULTS.timeoutS,
    ]);
  });

  it("lowers those defaults to the server's caps instead of failing", () => {
    const parsed = parse({ language: "python", code: "x", gpu: "T4" }, { ...limits, lifetimeMaxS: 120 });
    expect(parsed.ok && [parsed.data.memoryMb, parsed.data.vcpus, parsed.data.lifetimeS]).toEqual([4096, 4, 120]);
  });

  it("leaves a CPU sandbox's defaults alone", () => {
    const parsed = parse({ language: "python", code: "x" });
    expect(parsed.ok && [parsed.data.memoryMb, parsed.data.vcpus, parsed.data.lifetimeS]).toEqual([256, 1, 60]);
  });

  it("accepts the seed's GPU snippet where the caps allow it, and otherwise names each cap and its setting", () => {
    const fits = parse(seedGpu, roomy);
    expect(fits.ok && [fits.data.memoryMb, fits.data.vcpus, fits.data.command]).toEqual([10000, 6, 'python inference_script.py "hello"']);
    const over = parse(seedGpu);
    expect(over.ok).toBe(false);
    const message = !over.ok ? over.message : "";
    expect(message).toMatch(/memory must be between 32 MB and 4096 MB \(4096 MB is this server's limit; its operator can raise it with RUN_MEMORY_MAX_MB\)/);
    expect(message).toMatch(/vcpus must be at most 4 \(this server's limit; its operator can raise it with RUN_VCPUS_MAX\)/);
    const long = parse({ ...seedGpu, timeout: 7200 }, roomy);
    expect(!long.ok && long.message).toMatch(/timeout must be at most 3600 seconds .*SANDBOX_TIMEOUT_MAX_S/);
  });

  it("names the anonymous caps' settings for anonymous runs", () => {
    const shares = { owner: { maxQueued: 10, maxRunning: 2 }, anonymous: { maxQueued: 1, maxRunning: 1, maxTimeoutS: 30, maxMemoryMb: 512, maxVcpus: 1 } };
    const anonymous = runLimitsFor(limits, shares, addressOwner("10.0.0.1"));
    const parsed = runRequestSchema(anonymous).safeParse({ runtime: "python", code: "x", memory: 1024, vcpus: 2, timeout: 60 });
    const message = parsed.success ? "" : describeIssues(parsed.error);
    expect(message).toMatch(/ANON_MAX_MEMORY_MB/);
    expect(message).toMatch(/ANON_MAX_VCPUS/);
    expect(message).toMatch(/ANON_MAX_TIMEOUT_S/);
  });
});
