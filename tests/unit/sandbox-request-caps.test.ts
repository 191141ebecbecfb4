import { describe, expect, it } from "vitest";
import { SANDBOX_INPUT_LIMITS, sandboxRequestSchema, sandboxRunRequestSchema } from "@/lib/sandboxes/sandbox-request-schema";
import { describeIssues } from "@/lib/errors/sandpit-error";

const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4, lifetimeMaxS: 3600 };
const schema = sandboxRequestSchema(limits);
const problem = (body: unknown) => {
  const parsed = schema.safeParse(body);
  return parsed.success ? null : describeIssues(parsed.error);
};

describe("sandbox request caps", () => {
  it("still accepts ordinary requirements", () => {
    const parsed = schema.safeParse({ runtime: "python", code: "x", requirements: "numpy==1.26.4\nrequests>=2 # http\npandas" });
    expect(parsed.success && parsed.data.requirements).toEqual(["numpy==1.26.4", "pandas", "requests>=2"]);
  });

  it("refuses pathological requirements at once (the old pattern took seconds on 100 characters)", () => {
    for (const requirement of [`a${"==1 ".repeat(40)}\u0001`, `a${"==1 ".repeat(2000)}\u0001`, `a==1${" , ".repeat(60)}\u0001`]) {
      const started = performance.now();
      expect(problem({ runtime: "python", code: "x", requirements: [requirement] })).toMatch(/requirement/);
      expect(problem({ runtime: "python", code: "x", requirements: requirement })).toMatch(/requirement/);
      expect(performance.now() - started).toBeLessThan(50);
    }
  });

  it("caps each requirement, the list, env variables, Deno flags and a run's input before looking inside", () => {
    const long = "a".repeat(SANDBOX_INPUT_LIMITS.requirementChars + 1);
    expect(problem({ runtime: "python", code: "x", requirements: long })).toMatch(/longer than 200 characters/);
    expect(problem({ runtime: "python", code: "x", requirements: Array(65).fill("numpy") })).toMatch(/at most 64 strings/);
    expect(problem({ runtime: "bash", code: "x", envVariables: { ["A".repeat(300)]: "1" } })).toMatch(/names must be at most 256 characters/);
    expect(problem({ runtime: "bash", code: "x", envVariables: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`K${i}`, "1"])) })).toMatch(
      /at most 100 environment variables/,
    );
    expect(problem({ runtime: "bash", code: "x", envVariables: [{ key: "K", value: "v".repeat(40_000) }] })).toMatch(/values at most 32768/);
    expect(problem({ runtime: "deno", code: "x", denoFlags: Array(51).fill("--allow-read") })).toMatch(/at most 50/);
    const flag = `--allow-net=${"x".repeat(300)}`;
    const message = problem({ runtime: "deno", code: "x", denoFlags: [flag] })!;
    expect(message).toMatch(/is refused/);
    expect(message.length).toBeLessThan(300);
    const run = sandboxRunRequestSchema(3600).safeParse({ input: "x".repeat(SANDBOX_INPUT_LIMITS.inputBytes + 1) });
    expect(run.success).toBe(false);
  });
});
