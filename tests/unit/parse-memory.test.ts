import { describe, expect, it } from "vitest";
import { parseMemoryMb } from "@/lib/runs/parse-memory";

describe("parseMemoryMb", () => {
  it.each([
    ["512MB", 512],
    ["1GB", 1024],
    ["256Mi", 256],
    ["2Gi", 2048],
    ["1.5GB", 1536],
    [" 64 mb ", 64],
    [300, 300],
  ] as const)("%s → %d MB", (input, expected) => expect(parseMemoryMb(input)).toBe(expected));

  it.each(["lots", "", "12TB", "-5MB", "MB", "1e3MB"] as const)("rejects %j", (input) => expect(parseMemoryMb(input)).toBeNull());
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("rejects the number %d", (input) => expect(parseMemoryMb(input)).toBeNull());
});

describe("parseMemoryMb on hostile text", () => {
  it.each(["1.", ".5GB", "1..5GB", "1 2MB", "1GB!", "1 G B", "１GB"] as const)("rejects %j", (input) => expect(parseMemoryMb(input)).toBeNull());

  it("refuses long text without reading it (the old pattern backtracked quadratically on this)", () => {
    expect(parseMemoryMb(`1${" ".repeat(30_000)}!`)).toBeNull();
    expect(parseMemoryMb(`${" ".repeat(40)}512MB`)).toBeNull();
    expect(parseMemoryMb(`${" ".repeat(20)}512MB`)).toBe(512);
  });
});
