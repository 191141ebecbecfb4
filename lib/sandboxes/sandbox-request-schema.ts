import { z } from "zod";
import { MAX_REQUIREMENT_CHARS, MAX_REQUIREMENTS, MAX_REQUIREMENTS_BYTES, parseRequirements } from "@/lib/requirements/parse-requirements";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import { cappedText, MAX_CODE_BYTES, MAX_STDIN_BYTES, resourceFields, type RunLimitSettings } from "@/lib/runs/run-request-schema";

/** Runtimes by the names the SDKs use; `shell` is an alias of `bash`. */
export const SANDBOX_RUNTIMES = ["python", "node", "deno", "go", "shell", "bash"] as const;
export const SANDBOX_LANGUAGES = ["python", "javascript", "typescript", "go", "shell"] as const;

const runtimeForLanguage: Record<(typeof SANDBOX_LANGUAGES)[number], string | null> = {
  python: "python",
  javascript: null, // node or deno: must be said
  typescript: "deno",
  go: "go",
  shell: "bash",
};
const languagesForRuntime: Record<string, string[]> = {
  python: ["python"],
  node: ["javascript"],
  deno: ["typescript", "javascript"],
  go: ["go"],
  bash: ["shell"],
};
const defaultLanguage: Record<string, string> = { python: "python", node: "javascript", deno: "typescript", go: "go", bash: "shell" };

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

export function sandboxRequestSchema(limits: RunLimitSettings & { lifetimeMaxS: number }) {
  const { memory, vcpus, model } = resourceFields(limits);
  return z
    .object({
      name: z.string().min(1).max(100).optional(),
      runtime: z.enum(SANDBOX_RUNTIMES, { error: `runtime must be one of ${SANDBOX_RUNTIMES.join(", ")}` }).optional(),
      language: z.enum(SANDBOX_LANGUAGES, { error: `language must be one of ${SANDBOX_LANGUAGES.join(", ")}` }).optional(),
      code: cappedText("code", MAX_CODE_BYTES, "code must be a string").optional(),
      memory,
      vcpus,
      model,
      timeout: z
        .number({ error: "timeout must be a number of seconds" })
        .positive("timeout must be positive")
        .max(limits.lifetimeMaxS, `timeout must be at most ${limits.lifetimeMaxS} seconds`)
        .default(60),
      envVariables: z
        .union([
          z.array(z.object({ key: z.string(), value: envValue })),
          z.record(z.string(), envValue),
        ])
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
      gpu: z.string().min(1).max(32).regex(/^[A-Za-z0-9_-]+$/, "gpu must be a GPU type like T4, A100 or any").optional(),
      files: z.array(z.object({ path: sandboxPath, content: base64Content })).max(100).optional(),
    })
    .strict()
    .transform((request, ctx) => {
      const fail = (field: string, message: string) => {
        ctx.addIssue({ code: "custom", path: [field], message });
        return z.NEVER;
      };
      let runtime: string | undefined = request.runtime === "shell" ? "bash" : request.runtime;
      if (!runtime) {
        if (!request.language) return fail("runtime", "say which runtime (python, node, deno, go, shell) or language");
        const implied = runtimeForLanguage[request.language];
        if (!implied) return fail("runtime", "language javascript needs a runtime: node or deno");
        runtime = implied;
      }
      const resolvedRuntime: string = runtime;
      const language = request.language ?? defaultLanguage[resolvedRuntime];
      if (!languagesForRuntime[resolvedRuntime].includes(language)) return fail("language", `language ${language} does not run on ${resolvedRuntime}`);

      let requirements: string[] = [];
      const hasRequirements = Array.isArray(request.requirements) ? request.requirements.some((entry) => entry.trim()) : !!request.requirements?.trim();
      if (request.requirements !== undefined && hasRequirements) {
        if (resolvedRuntime !== "python" && resolvedRuntime !== "node") {
          return fail("requirements", `requirements are supported for python (pip) and node (npm), not ${resolvedRuntime}`);
        }
        const parsed = parseRequirements(resolvedRuntime, request.requirements);
        if (!parsed.ok) return fail("requirements", parsed.message);
        requirements = parsed.requirements;
      }

      let denoFlags = request.denoFlags ?? [];
      let command: string | null = null;
      const code = request.code?.trim() ? request.code : null;
      if (code && isCommand(resolvedRuntime, code)) {
        command = code.trim();
        if (resolvedRuntime === "deno") denoFlags = [...denoFlags, ...command.split(/\s+/).filter((word) => word.startsWith("-"))];
      }
      if (denoFlags.length && resolvedRuntime !== "deno") return fail("denoFlags", "denoFlags apply to the deno runtime only");
      for (const flag of denoFlags) {
        if (DENO_REFUSED.test(flag)) return fail("denoFlags", `${quoteClientInput(flag)} is refused: sandboxes have no network`);
        if (!DENO_FLAG_PATTERN.test(flag)) return fail("denoFlags", `${quoteClientInput(flag)} is not an allowed Deno permission flag`);
      }
      return {
        name: request.name,
        runtime: resolvedRuntime as "python" | "node" | "deno" | "go" | "bash",
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
        gpu: request.gpu,
        files: request.files ?? [],
      };
    });
}

export type SandboxRequest = z.output<ReturnType<typeof sandboxRequestSchema>>;

const COMMAND_WORDS: Record<string, RegExp> = {
  python: /^(python3?|pip3?)\s+\S/,
  node: /^(node|npx)\s+\S/,
  deno: /^deno\s+(run|test|eval)\s+\S/,
  go: /^go\s+run\s+\S/,
  bash: /^(bash|sh)\s+\S/,
};

/** Code like `python inference.py "x"` or `deno run --allow-ffi script.ts` is a command, not source. */
export function isCommand(runtime: string, code: string): boolean {
  const trimmed = code.trim();
  return !trimmed.includes("\n") && (COMMAND_WORDS[runtime]?.test(trimmed) ?? false);
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
