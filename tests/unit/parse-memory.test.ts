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
