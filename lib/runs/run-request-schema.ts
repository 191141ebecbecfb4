import { z } from "zod";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { MODEL_NAME_PATTERN } from "@/lib/models/model-name";
import { quoteClientInput } from "@/lib/http/quote-client-input";
import { MAX_MEMORY_TEXT_CHARS, parseMemoryMb } from "./parse-memory";

export type RunLimitSettings = {
  timeoutDefaultS: number;
  timeoutMaxS: number;
  memoryDefaultMb: number;
  memoryMaxMb: number;
  vcpusMax: number;
  /** The settings that set the maxima, named in the error a request over one gets (anonymous runs have their own). */
  limitSettings?: Partial<LimitSettingNames>;
};

export type LimitSettingNames = { timeout: string; memory: string; vcpus: string };
export const LIMIT_SETTING_NAMES: LimitSettingNames = { timeout: "RUN_TIMEOUT_MAX_S", memory: "RUN_MEMORY_MAX_MB", vcpus: "RUN_VCPUS_MAX" };

/** The part of a cap's message that says where the cap comes from and how an operator raises it. */
export function raisedBy(setting: string): string {
  return `this server's limit; its operator can raise it with ${setting}`;
}

export const MIN_MEMORY_MB = 32;
export const MAX_CODE_BYTES = 512 * 1024;
export const MAX_STDIN_BYTES = 512 * 1024;
/** A model name is a folder (or folder/folder) name: longer ones are refused before the pattern sees them. */
export const MAX_MODEL_NAME_CHARS = 200;

/** A byte cap for a client's string: a length check (chars ≤ bytes) runs first, then the UTF-8 size. */
export function cappedText(field: string, maxBytes: number, typeError: string) {
  return z
    .string({ error: typeError })
    .max(maxBytes, `${field} must be at most ${maxBytes} bytes`)
    .refine((text) => Buffer.byteLength(text) <= maxBytes, `${field} must be at most ${maxBytes} bytes`);
}

/** Validates a run request; the same schema serves the HTTP API and server actions. */
export function runRequestSchema(limits: RunLimitSettings) {
  const runtimeNames = runtimeCatalog().names;
  return z
    .object({
      ...resourceFields(limits),
      runtime: z.enum(runtimeNames, {
        error: (issue) =>
          issue.input === undefined ? "runtime is required" : `unknown runtime ${quoteClientInput(issue.input)}; expected one of ${runtimeNames.join(", ")}`,
      }),
      code: cappedText("code", MAX_CODE_BYTES, "code is required and must be a string").refine((code) => code.length > 0, "code must not be empty"),
      stdin: cappedText("stdin", MAX_STDIN_BYTES, "stdin must be a string").default(""),
    })
    .strict();
}

const modelName = z
  .string({ error: "model must be a string" })
  .max(MAX_MODEL_NAME_CHARS, `model must be at most ${MAX_MODEL_NAME_CHARS} characters`)
  .regex(MODEL_NAME_PATTERN, "model must be a folder name in the model store, like Qwen or Qwen/Qwen3-8B");

/** Limits shared by runs and sandboxes. */
export function resourceFields(limits: RunLimitSettings) {
  const settings = { ...LIMIT_SETTING_NAMES, ...limits.limitSettings };
  return {
    timeout: z
      .number({ error: "timeout must be a number of seconds" })
      .positive("timeout must be positive")
      .max(limits.timeoutMaxS, `timeout must be at most ${limits.timeoutMaxS} seconds (${raisedBy(settings.timeout)})`)
      .default(limits.timeoutDefaultS),
    memory: z
      .union([z.string(), z.number()], { error: 'memory must be like "512MB", "1GB", "256Mi" or a number of MB' })
      .optional()
      .transform((value, ctx) => {
        if (value === undefined) return limits.memoryDefaultMb;
        if (typeof value === "string" && value.length > MAX_MEMORY_TEXT_CHARS) {
          ctx.addIssue({ code: "custom", message: `memory must be at most ${MAX_MEMORY_TEXT_CHARS} characters, like "512MB"` });
          return z.NEVER;
        }
        const mb = parseMemoryMb(value);
        if (mb === null) {
          ctx.addIssue({ code: "custom", message: `memory ${quoteClientInput(value)} is not like "512MB", "1GB", "256Mi" or a number of MB` });
          return z.NEVER;
        }
        if (mb < MIN_MEMORY_MB || mb > limits.memoryMaxMb) {
          const source = mb > limits.memoryMaxMb ? ` (${limits.memoryMaxMb} MB is ${raisedBy(settings.memory)})` : "";
          ctx.addIssue({ code: "custom", message: `memory must be between ${MIN_MEMORY_MB} MB and ${limits.memoryMaxMb} MB${source}` });
          return z.NEVER;
        }
        return mb;
      }),
    vcpus: z
      .number({ error: "vcpus must be a number" })
      .min(0.1, "vcpus must be at least 0.1")
      .max(limits.vcpusMax, `vcpus must be at most ${limits.vcpusMax} (${raisedBy(settings.vcpus)})`)
      .default(1),
    // A store name, or `{name, path}` (the published SDK's form: `path` is the client's own folder, which its SDK uploads).
    model: z
      .union([modelName, z.object({ name: modelName, path: z.string().max(4096).optional() }).strict()], {
        error: "model must be a model store name like Qwen or Qwen/Qwen3-8B, or {name, path}",
      })
      .optional()
      .transform((model) => (typeof model === "object" ? model.name : model)),
  };
}

export type RunRequest = z.infer<ReturnType<typeof runRequestSchema>>;
