import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RUNTIME_NAME_PATTERN, runtimeFileSchema, type ClientRuntime, type Runtime, type RuntimeName } from "./runtime-schema";

export type { ClientRuntime, Runtime, RuntimeName } from "./runtime-schema";

/**
 * The one list of runtimes: every `images/<name>/` folder with a runtime.json (see runtime-schema.ts), read and
 * validated once per process. The web (server side), the worker, the benchmark and the tests all read it here;
 * browser code gets `clientRuntimes()` from the server. Adding a runtime means adding its folder, nothing else.
 */
export type RuntimeCatalog = {
  /** In picker order; the first is the default runtime. */
  runtimes: readonly Runtime[];
  names: readonly [RuntimeName, ...RuntimeName[]];
  defaultRuntime: Runtime;
  find(name: string): Runtime | undefined;
};

/** Sandpit runs from its repository root (scripts/up.sh, the tests), where images/ is. */
export const IMAGES_DIR = path.join(process.cwd(), "images");

let cached: RuntimeCatalog | undefined;

export function runtimeCatalog(): RuntimeCatalog {
  cached ??= loadRuntimeCatalog(IMAGES_DIR);
  return cached;
}

/** Reads and checks every runtime folder under `imagesDir`; throws naming the file at fault. */
export function loadRuntimeCatalog(imagesDir: string): RuntimeCatalog {
  if (!existsSync(imagesDir)) throw new Error(`runtime catalog: ${imagesDir} is missing (run Sandpit from its repository root)`);
  const runtimes: Runtime[] = [];
  for (const name of readdirSync(imagesDir).sort()) {
    const file = path.join(imagesDir, name, "runtime.json");
    if (!existsSync(file)) continue; // images/base and other shared layers are no runtime
    if (!RUNTIME_NAME_PATTERN.test(name))
      throw new Error(`runtime catalog: folder name ${JSON.stringify(name)} is not a runtime name (${RUNTIME_NAME_PATTERN})`);
    let parsed;
    try {
      parsed = runtimeFileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
    } catch (error) {
      const detail = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
      throw new Error(`runtime catalog: ${file}: ${detail}`);
    }
    const starterFile = path.join(imagesDir, name, `starter.${parsed.fileExtension}`);
    if (!existsSync(starterFile)) throw new Error(`runtime catalog: ${starterFile} is missing`);
    const gpuImagePackages = parsed.gpuImage ? readGpuImagePackages(path.join(imagesDir, parsed.gpuImage, "requirements.txt")) : [];
    const modelStarterFile = path.join(imagesDir, name, `starter.model.${parsed.fileExtension}`);
    const modelStarter = existsSync(modelStarterFile) ? readFileSync(modelStarterFile, "utf8") : null;
    runtimes.push({ ...parsed, name, starter: readFileSync(starterFile, "utf8"), modelStarter, sourceFile: `main.${parsed.fileExtension}`, gpuImagePackages });
  }
  if (!runtimes.length) throw new Error(`runtime catalog: no images/<name>/runtime.json under ${imagesDir}`);
  runtimes.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  const byName = new Map(runtimes.map((runtime) => [runtime.name, runtime]));
  const taken = new Set(byName.keys());
  for (const runtime of runtimes) {
    for (const alias of runtime.aliases) {
      if (taken.has(alias)) throw new Error(`runtime catalog: ${runtime.name}'s alias ${JSON.stringify(alias)} is already a runtime name or alias`);
      taken.add(alias);
    }
  }
  return {
    runtimes,
    names: runtimes.map((runtime) => runtime.name) as [RuntimeName, ...RuntimeName[]],
    defaultRuntime: runtimes[0],
    find: (name) => byName.get(name),
  };
}

/**
 * The package names a GPU image's requirements.txt installs (one per line; comments and blank lines skipped).
 * Without the file none is known to be carried: GPU sandboxes then install all of their requirements on top.
 */
function readGpuImagePackages(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim().toLowerCase())
    .filter(Boolean);
}

export function isRuntimeName(value: string): value is RuntimeName {
  return runtimeCatalog().find(value) !== undefined;
}

/** The runtime called `name`; an unknown name is a bug (names are validated where they enter). */
export function getRuntime(name: RuntimeName): Runtime {
  const runtime = runtimeCatalog().find(name);
  if (!runtime) throw new Error(`unknown runtime ${JSON.stringify(name.slice(0, 40))}`);
  return runtime;
}

/** The runtimes as browser components see them, in picker order. */
export function clientRuntimes(): ClientRuntime[] {
  return runtimeCatalog().runtimes.map(({ name, label, monacoLanguage, starter, modelStarter }) => ({ name, label, monacoLanguage, starter, modelStarter }));
}
