import { describe, expect, it } from "vitest";
import { MAX_QUOTED_CHARS, quoteClientInput } from "@/lib/http/quote-client-input";
import { describeIssues } from "@/lib/errors/sandpit-error";
import { runRequestSchema } from "@/lib/runs/run-request-schema";

const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4 };

describe("quoteClientInput", () => {
  it("quotes short strings whole and cuts long ones to 100 characters, saying how long they were", () => {
    expect(quoteClientInput("cobol")).toBe('"cobol"');
    const quoted = quoteClientInput("x".repeat(1_000_000));
    expect(quoted).toBe(`"${"x".repeat(MAX_QUOTED_CHARS)}"… (1000000 characters)`);
  });

  it("names other values instead of serialising them", () => {
    expect(quoteClientInput({ a: "x".repeat(1000) })).toBe("a value of type object");
    expect(quoteClientInput([1, 2])).toBe("a list");
    expect(quoteClientInput(3)).toBe("3");
  });

  it("keeps every run-request error under a few hundred characters, whatever the client sent", () => {
    const huge = `${"[".repeat(200_000)}${" ".repeat(200_000)}${",".repeat(200_000)}`;
    for (const field of ["runtime", "code", "stdin", "memory", "model", "timeout", "vcpus"]) {
      const body: Record<string, unknown> = { runtime: "python", code: "print(1)", [field]: huge };
      const parsed = runRequestSchema(limits).safeParse(body);
      expect(parsed.success, field).toBe(false);
      if (!parsed.success) expect(describeIssues(parsed.error).length, field).toBeLessThan(400);
    }
  });
});
