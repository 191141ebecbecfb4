import { z } from "zod";
import { MAX_REQUIREMENT_CHARS, MAX_REQUIREMENTS, MAX_REQUIREMENTS_BYTES, parseRequirements } from "@/lib/requirements/parse-requirements";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import { runtimeCatalog, type Runtime } from "@/lib/runtimes/catalog";
import { nestedRequestSchema } from "./nested-budget";
import { cappedText, MAX_CODE_BYTES, MAX_STDIN_BYTES, raisedBy, resourceFields, type RunLimitSettings } from "@/lib/runs/run-request-schema";

/** The sandbox API's runtime and language vocabulary, from the runtime catalog (images/<name>/runtime.json). */
export function sandboxVocabulary() {
  const { runtimes } = runtimeCatalog();
  const runtimeByName = new Map<string, Runtime>();
  for (const runtime of runtimes) for (const name of [runtime.name, ...runtime.aliases]) runtimeByName.set(name, runtime);
  const listing = new Map<string, Runtime[]>();
  for (const runtime of runtimes) for (const language of runtime.languages) listing.set(language, [...(listing.get(language) ?? []), runtime]);
  return {
    /** Runtime names and their aliases (bash: shell), as the SDKs send them. */
    runtimeNames: [...runtimeByName.keys()] as [string, ...string[]],
    languages: [...listing.keys()] as [string, ...string[]],
    runtimeByName,
    /** The runtimes that run each language: a language with one implies it; with several the request must say. */
    runtimesForLanguage: listing,
    /** Runtimes whose sandboxes take `denoFlags`. */
    permissionFlagRuntimes: runtimes.filter((runtime) => runtime.permissionFlags).map((runtime) => runtime.name),
    requirementsRuntimes: runtimes.filter((runtime) => runtime.requirements !== "none").map((runtime) => `${runtime.name} (${runtime.requirements})`),
    /** Runtimes whose images carry a Sandpit SDK: the ones nested sandboxes may use. */
    sdkRuntimes: runtimes.filter((runtime) => runtime.sdk).map((runtime) => runtime.name),
  };
}

/** Deno permissions a sandbox may grant itself. Network and --allow-all need networking, which sandboxes never have. */
export const DENO_FLAG_PATTERN = /^--allow-(read|write|env|sys|hrtime|ffi|run)(=[A-Za-z0-9_./,:-]+)?$/;
const DENO_REFUSED = /^(--allow-all|-A|--allow-net|--allow-import)(=.*)?$/;

export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Caps on what a sandbox request may carry, checked before any pattern or parser sees the text. */
export const SANDBOX_INPUT_LIMITS = {
  envCount: 100,
  envKeyChars: 256,
  envValueChars: 32 * 1024,
  requirementsChars: MAX_REQUIREMENTS_BYTES,
  requirementCount: MAX_REQUIREMENTS,
  requirementChars: MAX_REQUIREMENT_CHARS,
  denoFlagCount: 50,
  denoFlagChars: 500,
  /** Base64 of one file: the request body limit bounds it too. */
  fileBase64Chars: 4 * 1024 * 1024,
  /** A sandbox run's `input` event, as JSON. */
  inputBytes: MAX_CODE_BYTES,
} as const;
const LIMITS = SANDBOX_INPUT_LIMITS;

const base64Content = z
  .string({ error: "content must be a base64 string" })
  .max(LIMITS.fileBase64Chars, `content must be at most ${LIMITS.fileBase64Chars} characters of base64`)
  .base64("content must be base64");

const sandboxPath = z
  .string({ error: "path must be a string" })
  .min(1)
  .max(255)
  .refine((path) => isSafeRelativePath(path), "file paths must be relative to /sandbox, without '..', control characters or a leading '/'");

/** A path the worker may hand to the sandbox's own user to write: relative, no traversal, no control or bidi characters. */
export function isSafeRelativePath(path: string): boolean {
  if (path.length > 4096) return false;
  if (path.startsWith("/") || path.startsWith("~")) return false;
  // C0 and C1 controls, line separators and bidi controls (which can make a name read as another).
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/.test(path)) return false;
  return path.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}

const envValue = z.union([z.string(), z.number(), z.boolean()]);

/**
 * A GPU sandbox's defaults where the request leaves them out, as the published SDK's GPUSandbox has them (10000 MB,
 * 10 vCPUs, 300 s), each lowered to this server's cap: a default never fails a request, an explicit value over a
 * cap does, with the setting that raises it.
 */
export const GPU_SANDBOX_DEFAULTS = { memoryMb: 10_000, vcpus: 10, timeoutS: 300 } as const;

/** Option names of the published SDKs (snake_case in Python, camelCase in JavaScript), each meaning one of ours. */
export const SANDBOX_OPTION_ALIASES: Record<string, string> = {
  cpu_cores: "vcpus",
  cpuCores: "vcpus",
  gpu_count: "gpuCount",
  env_variables: "envVariables",
};

/** Renames aliases to their fields (refusing both at once) and fills a GPU sandbox's defaults; anything else passes through. */
function normalizeSandboxRequest(limits: RunLimitSettings & { lifetimeMaxS: number }) {
  return (input: unknown, ctx: { addIssue: (issue: { code: "custom"; message: string; input: unknown }) => void }) => {
    if (!input || typeof input !== "object" || Array.isArray(input)) return input;
    const body: Record<string, unknown> = { ...(input as Record<string, unknown>) };
    for (const [alias, field] of Object.entries(SANDBOX_OPTION_ALIASES)) {
      if (!Object.hasOwn(body, alias)) continue;
      if (Object.hasOwn(body, field)) ctx.addIssue({ code: "custom", message: `give ${field} or ${alias}, not both`, input });
      else body[field] = body[alias];
      delete body[alias];
    }
    if (body.gpu !== undefined || body.gpuCount !== undefined) {
      body.memory ??= Math.min(GPU_SANDBOX_DEFAULTS.memoryMb, limits.memoryMaxMb);
      body.vcpus ??= Math.min(GPU_SANDBOX_DEFAULTS.vcpus, limits.vcpusMax);
      body.timeout ??= Math.min(GPU_SANDBOX_DEFAULTS.timeoutS, limits.lifetimeMaxS);
    }
    return body;
  };
}

export function sandboxRequestSchema(limits: RunLimitSettings & { lifetimeMaxS: number }) {
  const { memory, vcpus, model } = resourceFields(limits);
  const vocabulary = sandboxVocabulary();
  const { runtimeNames, languages } = vocabulary;
  return z.preprocess(
    normalizeSandboxRequest(limits),
    z
      .object({
        name: z.string().min(1).max(100).optional(),
        runtime: z.enum(runtimeNames, { error: `runtime must be one of ${runtimeNames.join(", ")}` }).optional(),
        language: z.enum(languages, { error: `language must be one of ${languages.join(", ")}` }).optional(),
        code: cappedText("code", MAX_CODE_BYTES, "code must be a string").optional(),
        memory,
        vcpus,
        model,
        timeout: z
          .number({ error: "timeout must be a number of seconds" })
          .positive("timeout must be positive")
          .max(limits.lifetimeMaxS, `timeout must be at most ${limits.lifetimeMaxS} seconds (${raisedBy("SANDBOX_TIMEOUT_MAX_S")})`)
          .default(60),
        envVariables: z
          .union([z.array(z.object({ key: z.string(), value: envValue })), z.record(z.string(), envValue)])
          .optional()
          .transform((value, ctx) => {
            const entries = Array.isArray(value) ? value.map(({ key, value: v }) => [key, v] as const) : Object.entries(value ?? {});
            if (entries.length > LIMITS.envCount) {
              ctx.addIssue({ code: "custom", message: `at most ${LIMITS.envCount} environment variables` });
              return z.NEVER;
            }
            const env: Record<string, string> = {};
            for (const [key, v] of entries) {
              // Lengths first (the union above checks types only, so its message would be a vague "invalid input").
              if (key.length > LIMITS.envKeyChars || String(v).length > LIMITS.envValueChars) {
                ctx.addIssue({
                  code: "custom",
                  message: `environment variable names must be at most ${LIMITS.envKeyChars} characters and values at most ${LIMITS.envValueChars}`,
                });
                return z.NEVER;
              }
              if (!ENV_KEY_PATTERN.test(key) || key.startsWith("SANDPIT_")) {
                ctx.addIssue({ code: "custom", message: `environment variable name ${quoteClientInput(key)} is not allowed` });
                return z.NEVER;
              }
              env[key] = String(v);
            }
            return env;
          }),
        // Bounded here, before anything splits or parses it; parseRequirements bounds each entry and the total.
        requirements: z
          .union([z.string().max(MAX_REQUIREMENTS_BYTES), z.array(z.string().max(MAX_REQUIREMENTS_BYTES)).max(MAX_REQUIREMENTS)], {
            error: `requirements must be a string or a list of at most ${MAX_REQUIREMENTS} strings, at most ${MAX_REQUIREMENTS_BYTES} bytes`,
          })
          .optional(),
        denoFlags: z
          .array(z.string().max(LIMITS.denoFlagChars, `a Deno flag must be at most ${LIMITS.denoFlagChars} characters`))
          .max(LIMITS.denoFlagCount, `at most ${LIMITS.denoFlagCount} Deno flags`)
          .optional(),
        gpu: z
          .string()
          .min(1)
          .max(32)
          .regex(/^[A-Za-z0-9_-]+$/, "gpu must be a GPU type like T4, A100 or any")
          .optional(),
        // The published SDK's gpu_count (1–10 there): a sandbox here gets one GPU, or a slot of one.
        gpuCount: z.literal(1, { error: "gpuCount (gpu_count) must be 1: a sandbox gets one GPU (or a slot of one)" }).optional(),
        files: z
          .array(z.object({ path: sandboxPath, content: base64Content }))
          .max(100)
          .optional(),
        /** Off by default: with it, the sandbox gets a channel to the sandbox API and a budget for children. */
        nested: nestedRequestSchema(limits).optional(),
      })
      .strict()
      .transform((request, ctx) => {
        const fail = (field: string, message: string) => {
          ctx.addIssue({ code: "custom", path: [field], message });
          return z.NEVER;
        };
        let runtime = request.runtime === undefined ? undefined : vocabulary.runtimeByName.get(request.runtime);
        if (!runtime) {
          if (!request.language) return fail("runtime", `say which runtime (${runtimeNames.join(", ")}) or language`);
          const candidates = vocabulary.runtimesForLanguage.get(request.language) ?? [];
          if (candidates.length !== 1) return fail("runtime", `language ${request.language} needs a runtime: ${candidates.map((c) => c.name).join(" or ")}`);
          runtime = candidates[0];
        }
        const resolvedRuntime = runtime.name;
        const language = request.language ?? runtime.languages[0];
        if (!runtime.languages.includes(language)) return fail("language", `language ${language} does not run on ${resolvedRuntime}`);

        let requirements: string[] = [];
        const hasRequirements = Array.isArray(request.requirements) ? request.requirements.some((entry) => entry.trim()) : !!request.requirements?.trim();
        if (request.requirements !== undefined && hasRequirements) {
          if (runtime.requirements === "none") {
            return fail("requirements", `requirements are supported for ${vocabulary.requirementsRuntimes.join(" and ")}, not ${resolvedRuntime}`);
          }
          const parsed = parseRequirements(runtime.requirements, request.requirements);
          if (!parsed.ok) return fail("requirements", parsed.message);
          requirements = parsed.requirements;
        }

        let denoFlags = request.denoFlags ?? [];
        let command: string | null = null;
        const code = request.code?.trim() ? request.code : null;
        if (code && isCommand(runtime, code)) {
          command = code.trim();
          if (runtime.permissionFlags) denoFlags = [...denoFlags, ...command.split(/\s+/).filter((word) => word.startsWith("-"))];
        }
        if (denoFlags.length && !runtime.permissionFlags) {
          return fail("denoFlags", `denoFlags apply to the ${vocabulary.permissionFlagRuntimes.join(", ")} runtime only`);
        }
        if (request.nested && !runtime.sdk) {
          const withSdk = vocabulary.sdkRuntimes.join(" or ");
          return fail("nested", `nested sandboxes run on ${withSdk} (the runtimes whose images carry the SDKs), not ${runtime.name}`);
        }
        for (const flag of denoFlags) {
          if (DENO_REFUSED.test(flag)) return fail("denoFlags", `${quoteClientInput(flag)} is refused: sandboxes have no network`);
          if (!DENO_FLAG_PATTERN.test(flag)) return fail("denoFlags", `${quoteClientInput(flag)} is not an allowed Deno permission flag`);
        }
        return {
          name: request.name,
          runtime: resolvedRuntime,
          language,
          code: command ? null : code,
          command,
          memoryMb: request.memory,
          vcpus: request.vcpus,
          model: request.model,
          lifetimeS: request.timeout,
          env: request.envVariables,
          requirements,
          denoFlags: [...new Set(denoFlags)],
          gpu: request.gpu ?? (request.gpuCount ? "any" : undefined),
          files: request.files ?? [],
          nested: request.nested ?? null,
        };
      }),
  );
}

export type SandboxRequest = z.output<ReturnType<typeof sandboxRequestSchema>>;

/**
 * Code like `python inference.py "x"` or `deno run --allow-ffi script.ts` is a command, not source: one line
 * whose first words are one of the runtime's commandPrefixes, followed by at least one more word.
 */
export function isCommand(runtime: Pick<Runtime, "commandPrefixes">, code: string): boolean {
  const trimmed = code.trim();
  if (trimmed.includes("\n")) return false;
  const prefixes = runtime.commandPrefixes.map((prefix) => prefix.split(" "));
  // Only as many words as the longest prefix needs, plus one: the rest of the line is never split.
  const words = trimmed.split(/\s+/, Math.max(0, ...prefixes.map((prefix) => prefix.length)) + 1);
  return prefixes.some((prefix) => words.length > prefix.length && prefix.every((word, index) => words[index] === word));
}

/** The body of a run request inside a sandbox. */
export function sandboxRunRequestSchema(lifetimeMaxS: number) {
  return z
    .object({
      input: z
        .unknown()
        .optional()
        .refine(
          (input) => input === undefined || Buffer.byteLength(JSON.stringify(input) ?? "") <= LIMITS.inputBytes,
          `input must be at most ${LIMITS.inputBytes} bytes of JSON`,
        ),
      command: z.string().min(1).max(10_000).optional(),
      stdin: cappedText("stdin", MAX_STDIN_BYTES, "stdin must be a string").default(""),
      timeout: z.number().positive("timeout must be positive").max(lifetimeMaxS).optional(),
    })
    .strict();
}

export const fileUploadSchema = z.object({ path: sandboxPath, content: base64Content }).strict();
export const fileDownloadSchema = z.object({ path: sandboxPath });
