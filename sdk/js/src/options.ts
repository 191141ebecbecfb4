import { resolveCode, resolveRequirements } from "./code-source.js";
import { ValidationError } from "./errors.js";
import { SANDBOX_LANGUAGES, SANDBOX_RUNTIMES } from "./generated/api.js";
import { planModel, type ModelOption } from "./model-upload.js";

// From the server's schema. Limits (name length, timeout, vcpus, memory) are the server's to set and report.
export const RUNTIMES = SANDBOX_RUNTIMES;
export const LANGUAGES = SANDBOX_LANGUAGES;
export type Runtime = (typeof RUNTIMES)[number];
export type Language = (typeof LANGUAGES)[number];

export type EnvVariables = { key: string; value: string }[] | Record<string, string | number | boolean>;

/** Options of `CPUSandbox.create()`; names as in the Buildfunctions SDK. */
export type SandboxOptions = {
  /** Label; default `sandbox-<id prefix>`. */
  name?: string;
  /** `python` | `javascript` | `typescript` | `go` | `shell`; implies the runtime (javascript needs `runtime`). */
  language?: Language;
  /** `python` | `node` | `deno` | `go` | `shell` | `bash`. */
  runtime?: Runtime;
  /** Source text, a path to a local file (relative, absolute or `~/…`), or a command (`python main.py "x"`). */
  code?: string;
  /** `"512MB"`, `"2GB"`, `"1Gi"` or a number of MB; default 256 MB. */
  memory?: string | number;
  /** Lifetime in seconds (default 60; the server says its maximum); the sandbox is removed when it runs out. */
  timeout?: number;
  /** CPUs (default 1; the server says its bounds). */
  vcpus?: number;
  /** Environment of every run: `{KEY: "v"}` or `[{key, value}]`. */
  envVariables?: EnvVariables;
  /** pip (python) or npm (node) packages: list, requirements.txt text (one a line), or a path to a requirements file. Deno: refused. */
  requirements?: string | string[];
  /** Deno permission flags from the server's allow-list (`--allow-read`, …). */
  denoFlags?: string[];
  /**
   * A model: a name in the server's model store, a hub id (`Qwen/Qwen3-8B`, fetched by the server when its
   * operator allows), a local folder (`./models/Qwen`, `/srv/models/Qwen`: uploaded to the store first, skipping
   * what it has) or `{name, path}`. Mounted read-only; `MODEL_PATH` says where.
   */
  model?: ModelOption;
  /** Lets the sandbox create child sandboxes within this budget (README "Nested sandboxes"); off by default. */
  nested?: NestedOptions;
  /** The published SDK's names: `cpu_cores`/`cpuCores` mean `vcpus`, `env_variables` means `envVariables`. */
  cpu_cores?: number;
  cpuCores?: number;
  env_variables?: EnvVariables;
  /** Per-sandbox connection; default: the configured/last client, then the environment. */
  apiToken?: string;
  baseUrl?: string;
};

/** Limits on everything below a nested sandbox at once; memory in MB and vcpus are totals. */
export type NestedOptions = { maxChildren?: number; maxDepth?: number; memory?: number; vcpus?: number; gpus?: number };

export type GPUSandboxOptions = SandboxOptions & {
  /** GPU type (`"T4"`, `"A100"`, …) or `"any"` (default). */
  gpu?: string;
  /** GPUs per sandbox (the published SDK's `gpu_count`); the server says how many it gives. */
  gpuCount?: number;
  gpu_count?: number;
};

/** The published SDKs' option names (Python snake_case, JavaScript camelCase), each meaning one of ours. */
export const OPTION_ALIASES: Readonly<Record<string, string>> = {
  cpu_cores: "vcpus",
  cpuCores: "vcpus",
  gpu_count: "gpuCount",
  env_variables: "envVariables",
};

const MEMORY_PATTERN = /^\s*\d+(\.\d+)?\s*(b|k|kb|ki|kib|m|mb|mi|mib|g|gb|gi|gib)?\s*$/i;
const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fail(field: string, message: string): never {
  throw new ValidationError(`${field}: ${message}`, { field });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const KNOWN_OPTIONS = new Set([
  "name",
  "language",
  "runtime",
  "code",
  "memory",
  "timeout",
  "vcpus",
  "envVariables",
  "requirements",
  "denoFlags",
  "model",
  "gpu",
  "gpuCount",
  "apiToken",
  "baseUrl",
  "files",
  "nested",
]);

/** Renames the published SDK's option names to ours; giving both names of one option is refused. */
export function normalizeOptions(options: GPUSandboxOptions): GPUSandboxOptions {
  if (!isRecord(options)) fail("options", "expected an object of sandbox options");
  const normalized: Record<string, unknown> = { ...options };
  for (const [alias, field] of Object.entries(OPTION_ALIASES)) {
    if (!Object.hasOwn(normalized, alias)) continue;
    if (normalized[field] !== undefined) fail(alias, `give ${field} or ${alias}, not both`);
    normalized[field] = normalized[alias];
    delete normalized[alias];
  }
  return normalized as GPUSandboxOptions;
}

/** The body of `POST /api/v1/sandboxes`, and the local model folder to upload first (as `body.model`), if any. */
export type CreateRequest = { body: Record<string, unknown>; modelFolder?: string };

/** Checks the options and turns them into the body of `POST /api/v1/sandboxes`. */
export function buildCreateBody(options: GPUSandboxOptions, kind: "cpu" | "gpu"): Record<string, unknown> {
  return buildCreateRequest(options, kind).body;
}

/** Checks the options and plans the create: the request body, and a local model folder to upload before it. */
export function buildCreateRequest(given: GPUSandboxOptions, kind: "cpu" | "gpu"): CreateRequest {
  const options = normalizeOptions(given);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(key, `unknown option (known: ${[...KNOWN_OPTIONS, ...Object.keys(OPTION_ALIASES)].join(", ")})`);
  }
  const body: Record<string, unknown> = {};
  let modelFolder: string | undefined;
  const files: { path: string; content: string }[] = [];

  if (options.name !== undefined) {
    if (typeof options.name !== "string" || !options.name.trim()) fail("name", "expected a non-empty string");
    body.name = options.name;
  }
  if (options.runtime !== undefined) {
    if (!RUNTIMES.includes(options.runtime as Runtime)) fail("runtime", `expected one of ${RUNTIMES.join(", ")}`);
    body.runtime = options.runtime;
  }
  if (options.language !== undefined) {
    if (!LANGUAGES.includes(options.language as Language)) fail("language", `expected one of ${LANGUAGES.join(", ")}`);
    body.language = options.language;
    if (options.language === "javascript" && options.runtime === undefined) fail("runtime", "language javascript needs runtime node or deno");
  }
  if (options.runtime === undefined && options.language === undefined) fail("runtime", "say which runtime: set runtime or language");
  if (kind === "gpu") {
    const runtime = options.runtime ?? options.language;
    if (runtime !== "python") fail(options.runtime !== undefined ? "runtime" : "language", "GPU sandboxes run python only");
  }
  if (options.code !== undefined) {
    if (typeof options.code !== "string") fail("code", "expected source text, a file path or a command");
    const resolved = resolveCode(options.code);
    body.code = resolved.code;
    files.push(...resolved.files);
  }
  if (options.memory !== undefined) {
    const memory = options.memory;
    const ok = typeof memory === "number" ? Number.isFinite(memory) && memory > 0 : typeof memory === "string" && MEMORY_PATTERN.test(memory);
    if (!ok) fail("memory", `expected a size such as "512MB", "2GB", "1Gi" or a number of MB, got ${JSON.stringify(memory)}`);
    body.memory = memory;
  }
  if (options.timeout !== undefined) {
    const timeout = options.timeout;
    if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0) fail("timeout", "expected seconds, a number above 0");
    body.timeout = timeout;
  }
  if (options.vcpus !== undefined) {
    const vcpus = options.vcpus;
    if (typeof vcpus !== "number" || !Number.isFinite(vcpus) || vcpus <= 0) fail("vcpus", "expected a number above 0");
    body.vcpus = vcpus;
  }
  if (options.envVariables !== undefined) {
    const given = options.envVariables;
    let pairs: [unknown, unknown][];
    if (Array.isArray(given)) {
      pairs = given.map((entry) => {
        if (!isRecord(entry)) fail("envVariables", "expected [{key, value}] or {KEY: value}");
        return [entry.key, entry.value];
      });
    } else if (isRecord(given)) {
      pairs = Object.entries(given);
    } else {
      fail("envVariables", "expected [{key, value}] or {KEY: value}");
    }
    const env: { key: string; value: string }[] = [];
    for (const [key, value] of pairs) {
      if (typeof key !== "string" || !ENV_KEY_PATTERN.test(key)) fail("envVariables", `bad variable name ${JSON.stringify(key)}`);
      if (!["string", "number", "boolean"].includes(typeof value)) fail("envVariables", `value of ${key} must be a string`);
      env.push({ key, value: String(value) });
    }
    body.envVariables = env;
  }
  if (options.requirements !== undefined) {
    const requirements = options.requirements;
    if (typeof requirements === "string") body.requirements = resolveRequirements(requirements);
    else if (Array.isArray(requirements) && requirements.every((item) => typeof item === "string" && item.trim())) body.requirements = requirements;
    else fail("requirements", "expected a list of package names or requirements.txt text");
  }
  if (options.denoFlags !== undefined) {
    const flags = options.denoFlags;
    if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === "string" && flag.startsWith("--")))
      fail("denoFlags", 'expected a list of flags such as ["--allow-read"]');
    body.denoFlags = flags;
  }
  if (options.model !== undefined) {
    const model = planModel(options.model);
    body.model = model.name;
    modelFolder = model.folder;
  }
  if (kind === "gpu") {
    // Memory, vCPUs and lifetime are left out when not given: the server fills in the published SDK's GPU
    // defaults (10000 MB, 10 vCPUs, 300 s), each lowered to its own cap, so a default never fails a request.
    const gpu = options.gpu ?? "any";
    if (typeof gpu !== "string" || !gpu.trim()) fail("gpu", 'expected a GPU type such as "T4" or "any"');
    body.gpu = gpu;
    if (options.gpuCount !== undefined) {
      if (!Number.isInteger(options.gpuCount) || options.gpuCount < 1) fail("gpuCount", "expected a whole number of GPUs, 1 or more");
      body.gpuCount = options.gpuCount; // the server says how many one sandbox may have
    }
  } else if (options.gpu !== undefined || options.gpuCount !== undefined) {
    fail(options.gpu !== undefined ? "gpu" : "gpuCount", "use GPUSandbox for a GPU");
  }
  const extra = (options as { files?: unknown }).files;
  if (extra !== undefined) {
    if (!Array.isArray(extra)) fail("files", "expected [{path, content(base64)}]");
    files.push(...(extra as { path: string; content: string }[]));
  }
  if (files.length) body.files = files;
  if (options.nested !== undefined) {
    if (!isRecord(options.nested)) fail("nested", "expected { maxChildren, maxDepth, memory, vcpus, gpus }");
    body.nested = options.nested; // the server checks each limit
  }
  return { body, modelFolder };
}
