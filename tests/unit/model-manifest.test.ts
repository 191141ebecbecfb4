import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isStorableModelName } from "@/lib/models/model-name";
import { isModelFilePath } from "@/lib/models/model-store-layout";
import { parseModelManifest } from "@/lib/models/parse-model-manifest";
import { planModelUpload } from "@/lib/models/plan-model-upload";
import { parseContentRange } from "@/lib/models/write-blob-chunk";

const caps = { maxModelBytes: 1000, maxFiles: 3, chunkMaxBytes: 100 };
const hash = (digit: string) => digit.repeat(64);

describe("model names and file paths", () => {
  it("accept Hugging Face layouts", () => {
    for (const good of ["config.json", "model-00001-of-00002.safetensors", "1_Pooling/config.json", "tokenizer/vocab.json", "a+b.bin"])
      expect(isModelFilePath(good), good).toBe(true);
    for (const name of ["Qwen", "Qwen/Qwen3-8B", "my_model.v2"]) expect(isStorableModelName(name), name).toBe(true);
  });

  it("refuse traversal, absolute paths, hidden files, odd characters and long input", () => {
    for (const bad of [
      "",
      "/etc/passwd",
      "../x",
      "a/../b",
      "./a",
      "a/./b",
      ".gitattributes",
      "a//b",
      "a/",
      "a\\b",
      "a b",
      "a\u0000b",
      "x".repeat(513),
      Array(10).fill("a").join("/"),
      "é",
    ]) {
      expect(isModelFilePath(bad), JSON.stringify(bad)).toBe(false);
    }
    for (const bad of ["", "..", "a/..", "/abs", "a/b/c", ".hidden", "uploads", "blobs/x", "x".repeat(201), 42]) {
      expect(isStorableModelName(bad), String(bad)).toBe(false);
    }
  });

  it("check a long hostile path in linear time (length first)", () => {
    expect(isModelFilePath("a".repeat(100_000))).toBe(false);
    expect(isModelFilePath(`${"a/".repeat(255)}!`)).toBe(false);
  });
});

describe("parseModelManifest", () => {
  const file = (filePath: string, size = 1, digit = "a") => ({ path: filePath, sha256: hash(digit), size });

  it("sums sizes and keeps the files", () => {
    expect(parseModelManifest({ name: "m", files: [file("config.json", 2), file("w.bin", 3, "b")] }, caps)).toEqual({
      name: "m",
      files: [file("config.json", 2), file("w.bin", 3, "b")],
      totalBytes: 5,
    });
  });

  it("refuses what breaks a cap or the layout", () => {
    const cases: [unknown, RegExp][] = [
      [{ name: "m", files: [file("a"), file("b"), file("c"), file("d")] }, /at most 3 files/],
      [{ name: "m", files: [file("a", 600), file("b", 600)] }, /MODEL_MAX_BYTES/],
      [{ name: "m", files: [file("a"), file("a")] }, /listed twice/],
      [{ name: "m", files: [file("a"), file("a/b")] }, /both a file and a folder/],
      [{ name: "m", files: [{ path: "a", sha256: "A".repeat(64), size: 1 }] }, /lowercase hex/],
      [{ name: "m", files: [{ path: "a", sha256: hash("a"), size: -1 }] }, /whole number/],
      [{ name: "m", files: [{ path: "a", sha256: hash("a"), size: 1.5 }] }, /whole number/],
      [{ name: "m", files: [] }, /non-empty/],
      [{ name: "../m", files: [file("a")] }, /name must be/],
      [{ name: "m", files: [file("a")], extra: 1 }, /unknown field/],
      [[], /send \{name/],
    ];
    for (const [input, message] of cases) expect(() => parseModelManifest(input, caps), JSON.stringify(input).slice(0, 80)).toThrow(message);
  });
});

describe("Content-Range", () => {
  it("reads bytes START-END/TOTAL within the caps", () => {
    expect(parseContentRange("bytes 0-99/250", caps)).toEqual({ start: 0, end: 99, total: 250, length: 100 });
    expect(() => parseContentRange(null, caps)).toThrow(/Content-Range/);
    expect(() => parseContentRange("bytes 0-100/250", caps)).toThrow(/MODEL_CHUNK_MAX_BYTES/);
    expect(() => parseContentRange("bytes 0-9/2000", caps)).toThrow(/MODEL_MAX_BYTES/);
    expect(() => parseContentRange("bytes 9-0/20", caps)).toThrow(/START/);
    expect(() => parseContentRange("bytes 0-20/20", caps)).toThrow(/END < TOTAL/);
    expect(() => parseContentRange(`bytes ${"1".repeat(200)}`, caps)).toThrow(/too long/);
  });
});

describe("planModelUpload", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sandpit-models-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("asks once per missing blob, with the offset a partial upload reached, and skips stored blobs", () => {
    mkdirSync(path.join(dir, ".store/blobs/sha256"), { recursive: true });
    mkdirSync(path.join(dir, ".store/uploads"), { recursive: true });
    writeFileSync(path.join(dir, ".store/blobs/sha256", hash("a")), "12345");
    writeFileSync(path.join(dir, ".store/uploads", `${hash("b")}.part`), "123");
    const manifest = parseModelManifest(
      {
        name: "m",
        files: [
          { path: "x", sha256: hash("a"), size: 5 },
          { path: "y", sha256: hash("b"), size: 10 },
          { path: "z", sha256: hash("b"), size: 10 },
          { path: "w", sha256: hash("c"), size: 4 },
        ],
      },
      { ...caps, maxFiles: 10 },
    );
    expect(planModelUpload(dir, manifest)).toEqual({
      missing: [
        { sha256: hash("b"), size: 10, offset: 3 },
        { sha256: hash("c"), size: 4, offset: 0 },
      ],
      missingBytes: 11,
    });
  });
});
