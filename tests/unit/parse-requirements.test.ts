import { describe, expect, it } from "vitest";
import { MAX_REQUIREMENT_CHARS, MAX_REQUIREMENTS, parseRequirements, type RequirementsInstaller } from "@/lib/requirements/parse-requirements";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { sandboxRequestSchema } from "@/lib/sandboxes/sandbox-request-schema";

const limits = { timeoutDefaultS: 30, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4, lifetimeMaxS: 3600 };

function accepted(installer: RequirementsInstaller, input: string | string[]): string[] {
  const result = parseRequirements(installer, input);
  if (!result.ok) throw new Error(`refused: ${result.message}`);
  return result.requirements;
}

function refusal(installer: RequirementsInstaller, entry: string): string {
  const result = parseRequirements(installer, [entry]);
  expect(result.ok, `${JSON.stringify(entry)} should be refused`).toBe(false);
  return result.ok ? "" : result.message;
}

describe("PEP 508 requirements", () => {
  it("accepts registry specifiers, extras and markers, in canonical form", () => {
    expect(accepted("pip", ["numpy>=1.24,<2.0"])).toEqual(["numpy>=1.24,<2.0"]);
    expect(accepted("pip", ["pkg[a,b]"])).toEqual(["pkg[a,b]"]);
    expect(accepted("pip", ["pkg[b, a] >= 1.0 , != 1.5.*"])).toEqual(["pkg[a,b]>=1.0,!=1.5.*"]);
    expect(accepted("pip", ['pkg; python_version>"3.8"'])).toEqual(['pkg; python_version>"3.8"']);
    expect(accepted("pip", ["six==1.16.0"])).toEqual(["six==1.16.0"]);
    expect(accepted("pip", ["Foo_Bar.baz ~= 2.1"])).toEqual(["foo-bar-baz~=2.1"]);
    expect(accepted("pip", ["pkg (>=1, <2)"])).toEqual(["pkg>=1,<2"]);
    expect(accepted("pip", ["pkg===1.0+local"])).toEqual(["pkg===1.0+local"]);
  });

  it("reads requirements.txt text: one entry a line, comments dropped, de-duplicated and sorted", () => {
    expect(accepted("pip", "six==1.16.0\n# a comment\nnumpy>=1.24,<2.0  # pinned\n\nsix==1.16.0\n")).toEqual(["numpy>=1.24,<2.0", "six==1.16.0"]);
  });

  it.each([
    ["pkg @ https://evil.example/pkg.whl", "URLs"],
    ["pkg @ some-path.whl", "direct references"],
    ["pkg@https://evil.example/pkg.whl", "URLs"],
    ["git+https://github.com/a/b", "URLs or VCS"],
    ["git+ssh://git@github.com/a/b", "URLs or VCS"],
    ["file:///etc/passwd", "URLs"],
    ["./local/pkg", "paths"],
    ["/abs/pkg.tar.gz", "paths"],
    ["~/pkg", "paths"],
    ["-e .", "options"],
    ["-r other.txt", "options"],
    ["--index-url https://evil.example/simple", "options"],
    ["--extra-index-url=https://evil.example", "options"],
    ["--trusted-host evil.example", "options"],
    ["pkg==1.0 --hash=sha256:abc", "unexpected"],
    ["pkg; os_name == 'posix' \\", "not allowed in an environment marker"],
    ["pkg==", "expected a version"],
    ["pkg[a", 'expected "]"'],
    ["pkg-", "must end with a letter or digit"],
    ["pkg==1 !", "unexpected"],
  ])("refuses %s, naming the entry", (entry, reason) => {
    const message = refusal("pip", entry);
    expect(message).toContain(JSON.stringify(entry).slice(1, -1).slice(0, 100));
    expect(message).toContain(reason);
  });

  it("answers the exponential-backtracking string fast", () => {
    const hostile = "a" + "==1 ".repeat(34) + "!";
    expect(hostile.length).toBe(138);
    const longer = "a" + "==1 ".repeat(42) + "!"; // 170 bytes, the issue's size
    for (const input of [hostile, longer]) {
      const started = performance.now();
      const result = parseRequirements("pip", [input]);
      expect(performance.now() - started).toBeLessThan(50);
      expect(result.ok).toBe(false);
    }
  });
});

describe("npm requirements", () => {
  it("accepts registry specs: versions, ranges, tags, scoped names", () => {
    expect(accepted("npm", ["is-number@7.0.0", "@scope/pkg@^1", "left-pad", "react@latest"])).toEqual([
      "@scope/pkg@^1",
      "is-number@7.0.0",
      "left-pad@*",
      "react@latest",
    ]);
  });

  it.each([
    ["github:attacker/pkg", "git"],
    ["pkg@github:attacker/pkg", "git"],
    ["pkg@git+file:///tmp/repo", "git"],
    ["pkg@git+https://github.com/a/b.git", "git"],
    ["pkg@https://evil.example/pkg.tgz", "remote"],
    ["file:/abs/x.tgz", "file"],
    ["pkg@file:../x", "directory"],
    ["./local", "directory"],
    ["pkg@npm:other@1", "alias"],
    ["--registry=https://evil.example", "options"],
    ["a b", "not an npm package spec"],
  ])("refuses %s, naming the entry", (entry, reason) => {
    const message = refusal("npm", entry);
    expect(message).toContain(JSON.stringify(entry).slice(1, -1));
    expect(message).toContain(reason);
  });
});

describe("bounds before parsing", () => {
  it("refuses an entry over the per-entry cap, quoting at most 100 characters of it", () => {
    const entry = "a".repeat(MAX_REQUIREMENT_CHARS + 1);
    const message = refusal("pip", entry);
    expect(message).toContain("longer than");
    expect(message).not.toContain("a".repeat(101));
  });

  it("refuses too many entries and too many bytes", () => {
    const many = Array.from({ length: MAX_REQUIREMENTS + 1 }, (_, i) => `pkg${i}`);
    expect(parseRequirements("pip", many).ok).toBe(false);
    expect(parseRequirements("npm", "x\n".repeat(10_000)).ok).toBe(false);
  });
});

describe("the sandbox request schema", () => {
  const schema = sandboxRequestSchema(limits);

  it("keeps the canonical set and names a refused entry in a validation issue", () => {
    const ok = schema.safeParse({ runtime: "python", requirements: ["numpy>=1.24,<2.0", "pkg[a,b]"] });
    expect(ok.success && ok.data.requirements).toEqual(["numpy>=1.24,<2.0", "pkg[a,b]"]);
    const bad = schema.safeParse({ runtime: "node", requirements: ["is-number@7.0.0", "x@git+file:///tmp/r"] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain("x@git+file:///tmp/r");
  });

  it("refuses requirements for runtimes without an installer", () => {
    const without = runtimeCatalog()
      .runtimes.filter((runtime) => runtime.requirements === "none")
      .map((runtime) => runtime.name);
    expect(without.length).toBeGreaterThan(0);
    for (const runtime of without) {
      const result = schema.safeParse({ runtime, requirements: ["npm:chalk@5"] });
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(`not ${runtime}`);
    }
  });

  it("refuses an oversized list before parsing it", () => {
    expect(schema.safeParse({ runtime: "python", requirements: "a".repeat(100_000) }).success).toBe(false);
    expect(schema.safeParse({ runtime: "python", requirements: Array(1000).fill("six") }).success).toBe(false);
  });
});
