import { describe, expect, it } from "vitest";
import { jsonNestingDepth } from "@/lib/http/json-nesting-depth";

describe("jsonNestingDepth", () => {
  it("counts the deepest array/object nesting", () => {
    expect(jsonNestingDepth("1")).toBe(0);
    expect(jsonNestingDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonNestingDepth("[[1],[2],[3]]")).toBe(2);
    expect(jsonNestingDepth('{"a":'.repeat(5000) + "1" + "}".repeat(5000))).toBe(5000);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonNestingDepth('{"code":"[[[[{{{{"}')).toBe(1);
    expect(jsonNestingDepth('["a\\"[[[[", "\\\\", [1]]')).toBe(2);
  });

  it("agrees with JSON.parse's structure on random values", () => {
    const build = (depth: number): unknown => (depth === 0 ? 'x]"}' : depth % 2 ? [build(depth - 1), "{"] : { k: build(depth - 1) });
    for (let depth = 0; depth < 40; depth++) expect(jsonNestingDepth(JSON.stringify(build(depth)))).toBe(depth);
  });
});
