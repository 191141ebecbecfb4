import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IMAGES_DIR, loadRuntimeCatalog, runtimeCatalog } from "@/lib/runtimes/catalog";
import { isCommand, sandboxRequestSchema } from "@/lib/sandboxes/sandbox-request-schema";
import { runRequestSchema } from "@/lib/runs/run-request-schema";

const limits = { timeoutDefaultS: 30, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 4, lifetimeMaxS: 3600 };

describe("the runtime catalog (images/<name>/runtime.json)", () => {
  const { runtimes } = runtimeCatalog();

  it("holds every runtime folder, and every folder holds the image's agents", () => {
    expect(runtimes.length).toBeGreaterThan(0);
    for (const runtime of runtimes) {
      const folder = path.join(IMAGES_DIR, runtime.name);
      // The image contract (lib/runtimes/runtime-schema.ts): the agent of every single-use container, sandbox handler shim.
      for (const file of ["Dockerfile", "warm", "call"]) expect(existsSync(path.join(folder, file)), `${runtime.name}/${file}`).toBe(true);
      // The shims read the code from main.<fileExtension>, where the supervisor writes a sandbox's code.
      expect(readdirText(folder), `${runtime.name}'s agents never mention ${runtime.sourceFile}`).toContain(runtime.sourceFile);
      expect(runtime.starter.trim(), `${runtime.name}'s starter`).not.toBe("");
    }
  });

  it("feeds the run request schema", () => {
    const schema = runRequestSchema(limits);
    for (const runtime of runtimes) expect(schema.safeParse({ runtime: runtime.name, code: runtime.hello.code }).success).toBe(true);
    const unknown = schema.safeParse({ runtime: "no-such-runtime", code: "1" });
    expect(unknown.success).toBe(false);
    expect(JSON.stringify(unknown.error?.issues)).toContain(runtimeCatalog().names.join(", "));
  });

  it("feeds the sandbox request schema: aliases, languages, the default language", () => {
    const schema = sandboxRequestSchema(limits);
    for (const runtime of runtimes) {
      for (const name of [runtime.name, ...runtime.aliases]) {
        const parsed = schema.safeParse({ runtime: name, code: runtime.hello.code });
        expect(parsed.success && parsed.data.runtime, name).toBe(runtime.name);
        expect(parsed.success && parsed.data.language).toBe(runtime.languages[0]);
      }
      for (const language of runtime.languages) {
        const claimants = runtimes.filter((other) => other.languages.includes(language));
        const parsed = schema.safeParse({ language, code: "x" });
        // A language one runtime claims implies it; a shared one (javascript: node or deno) must name the runtime.
        if (claimants.length === 1) expect(parsed.success && parsed.data.runtime, language).toBe(runtime.name);
        else expect(parsed.success, language).toBe(false);
      }
    }
  });

  it("tells a command from source by the runtime's command prefixes", () => {
    const single = { commandPrefixes: ["tool"] };
    const double = { commandPrefixes: ["tool run"] };
    expect(isCommand(single, "tool script.x --flag")).toBe(true);
    expect(isCommand(single, "  tool   script.x  ")).toBe(true);
    expect(isCommand(single, "tool")).toBe(false);
    expect(isCommand(single, "tools script.x")).toBe(false);
    expect(isCommand(single, "tool a\ntool b")).toBe(false);
    expect(isCommand(double, "tool run main.x")).toBe(true);
    expect(isCommand(double, "tool run")).toBe(false);
    expect(isCommand(double, "tool build main.x")).toBe(false);
    expect(isCommand({ commandPrefixes: [] }, "anything at all")).toBe(false);
  });
});

describe("loading runtime folders", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A copy of images/ (catalog files only) to change one thing in. */
  function copyOfImages(): string {
    dir = mkdtempSync(path.join(tmpdir(), "sandpit-catalog-"));
    for (const runtime of runtimeCatalog().runtimes) {
      cpSync(path.join(IMAGES_DIR, runtime.name, "runtime.json"), path.join(dir, runtime.name, "runtime.json"));
      cpSync(path.join(IMAGES_DIR, runtime.name, `starter.${runtime.fileExtension}`), path.join(dir, runtime.name, `starter.${runtime.fileExtension}`));
    }
    return dir;
  }

  const template = () => JSON.parse(readFileSync(path.join(IMAGES_DIR, runtimeCatalog().defaultRuntime.name, "runtime.json"), "utf8"));

  it("adds a runtime for a new folder, in its order, and makes the lowest order the default", () => {
    const images = copyOfImages();
    cpSync(path.join(images, runtimeCatalog().defaultRuntime.name), path.join(images, "newlang"), { recursive: true });
    const file = { ...template(), label: "New 1", order: -1, fileExtension: "nl", languages: ["newlang"], aliases: [] };
    writeFileSync(path.join(images, "newlang", "runtime.json"), JSON.stringify(file));
    writeFileSync(path.join(images, "newlang", "starter.nl"), "say hello\n");
    const catalog = loadRuntimeCatalog(images);
    expect(catalog.names).toEqual(["newlang", ...runtimeCatalog().names]);
    expect(catalog.defaultRuntime).toMatchObject({ name: "newlang", sourceFile: "main.nl", starter: "say hello\n" });
  });

  it("refuses a malformed runtime.json, naming the file", () => {
    const images = copyOfImages();
    const name = runtimeCatalog().defaultRuntime.name;
    writeFileSync(path.join(images, name, "runtime.json"), JSON.stringify({ ...template(), requirements: "cargo" }));
    expect(() => loadRuntimeCatalog(images)).toThrow(`${name}/runtime.json`);
    writeFileSync(path.join(images, name, "runtime.json"), JSON.stringify({ ...template(), surprise: true }));
    expect(() => loadRuntimeCatalog(images)).toThrow(/surprise/);
    writeFileSync(path.join(images, name, "runtime.json"), "{ not json");
    expect(() => loadRuntimeCatalog(images)).toThrow(`${name}/runtime.json`);
  });

  it("refuses a missing starter and an alias that is already a name", () => {
    const images = copyOfImages();
    const [first, second] = runtimeCatalog().runtimes;
    writeFileSync(path.join(images, first.name, "runtime.json"), JSON.stringify({ ...template(), aliases: [second.name] }));
    expect(() => loadRuntimeCatalog(images)).toThrow(/already a runtime name/);
    writeFileSync(path.join(images, first.name, "runtime.json"), JSON.stringify({ ...template(), fileExtension: "zz" }));
    expect(() => loadRuntimeCatalog(images)).toThrow(/starter\.zz is missing/);
  });

  it("skips folders without a runtime.json (images/base) and refuses an empty catalog", () => {
    dir = mkdtempSync(path.join(tmpdir(), "sandpit-catalog-"));
    cpSync(path.join(IMAGES_DIR, "base"), path.join(dir, "base"), { recursive: true });
    expect(() => loadRuntimeCatalog(dir!)).toThrow(/no images\/<name>\/runtime.json/);
  });
});

/** The image's own files besides the shims (warm agents, handler wrappers), which may name main.<ext> instead. */
function readdirText(folder: string): string {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name !== "runtime.json" && !entry.name.startsWith("starter."))
    .map((entry) => readFileSync(path.join(folder, entry.name), "utf8"))
    .join("\n");
}
