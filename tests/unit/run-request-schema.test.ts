import { describe, expect, it } from "vitest";
import { describeIssues } from "@/lib/errors/sandpit-error";
import { runRequestSchema } from "@/lib/runs/run-request-schema";

const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 2 };
const schema = runRequestSchema(limits);

describe("runRequestSchema", () => {
  it("fills defaults", () => {
    expect(schema.parse({ runtime: "python", code: "print(1)" })).toEqual({
      runtime: "python",
      code: "print(1)",
      stdin: "",
      timeout: 10,
      memory: 256,
      vcpus: 1,
    });
  });

  it("names every bad field in one message", () => {
    const result = schema.safeParse({ runtime: "perl", code: 5, timeout: 999 });
    expect(result.success).toBe(false);
    const message = describeIssues(result.error!);
    expect(message).toMatch(/unknown runtime "perl"/);
    expect(message).toMatch(/code is required and must be a string/);
    expect(message).toMatch(/timeout must be at most 300 seconds/);
  });
});
