import os from "node:os";
import { z } from "zod";
import { parseAutorunOrigins } from "@/lib/embed/embed-autorun";
import { processSingleton } from "@/lib/os/process-singleton";
import { fairShareEnvFields, resolveFairShares } from "./fair-share-settings";
import { onOff, parseEnv, positiveInt, resolveSharedSettings, sharedSettingsSchema } from "./shared-settings";

/** The web process's one validated configuration (Next.js routes, server actions and the Socket.IO server). */
const webEnvSchema = sharedSettingsSchema.extend({
  PORT: positiveInt(3000),
  HOST: z.string().default("127.0.0.1"),
  PUBLIC_URL: z.string().url().optional(),
  MAX_REQUEST_BYTES: positiveInt(1024 * 1024),
  RUN_TIMEOUT_DEFAULT_S: positiveInt(10),
  RUN_TIMEOUT_MAX_S: positiveInt(300),
  RUN_MEMORY_MAX_MB: positiveInt(4096),
  RUN_VCPUS_MAX: z.coerce.number().positive().default(os.availableParallelism()),
  WAIT_MARGIN_S: positiveInt(15),
  SANDBOX_TIMEOUT_MAX_S: positiveInt(3600),
  SANDBOX_PROVISION_TIMEOUT_S: positiveInt(600),
  TOKEN_LIVE_SANDBOXES: positiveInt(10),
  TOKEN_RUNS_PER_MINUTE: positiveInt(120),
  // Runs queued from the playground / embeds, per client address: a burst, then so many a minute.
  RUN_RATE_LIMIT_BURST: positiveInt(20),
  RUN_RATE_LIMIT_PER_MINUTE: positiveInt(30),
  EMBED_RATE_LIMIT_BURST: positiveInt(10),
  EMBED_RATE_LIMIT_PER_MINUTE: positiveInt(15),
  // Anonymous POST /api/v1/runs, per client address (runs with a token count against the token instead).
  API_RATE_LIMIT_BURST: positiveInt(120),
  API_RATE_LIMIT_PER_MINUTE: positiveInt(120),
  // Past this many queued runs, new runs get 429 + Retry-After instead of waiting in a queue nobody can drain.
  MAX_QUEUED_RUNS: positiveInt(1000),
  // Embedding origins whose widgets may run their code on load (autorun=1); elsewhere the widget waits for a click.
  EMBED_AUTORUN_ORIGINS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      try {
        return parseAutorunOrigins(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  ...fairShareEnvFields,
  // Only for the 410 message: the worker deletes runs past it (worker/config.ts reads the same variable).
  RUN_RETENTION_DAYS: z.coerce.number().positive().default(30),
  // Behind a reverse proxy that sets X-Forwarded-For: believe it. Otherwise those headers are the client's own words.
  TRUST_PROXY: onOff("TRUST_PROXY", "0"),
  // Model store (lib/models, README "Model store"): caps checked before any byte is read.
  MODEL_MAX_BYTES: positiveInt(64 * 1024 * 1024 * 1024),
  MODEL_MAX_FILES: positiveInt(2000),
  MODEL_CHUNK_MAX_BYTES: positiveInt(16 * 1024 * 1024),
  // Hub ids (`org/model`) missing from the store are fetched from MODEL_HUB_URL only when this is on.
  MODEL_FETCH: onOff("MODEL_FETCH", "0"),
  MODEL_HUB_URL: z.string().url().default("https://huggingface.co"),
  // More than one web server: Socket.IO fan-out and the run rate limits go through this Redis (lib/redis/web-redis.ts).
  // Unset: everything stays in this process, as one web server needs.
  REDIS_URL: z
    .string()
    .url()
    .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), "must start with redis:// or rediss://")
    .optional(),
  // Every key and channel Sandpit uses in that Redis starts with this, so installations (and test runs) can share one.
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'")
    .default("sandpit"),
});

export type WebConfig = ReturnType<typeof loadWebConfig>;

function loadWebConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(webEnvSchema, env, "web");
  const shared = resolveSharedSettings(parsed);
  const runLimits = {
    timeoutDefaultS: parsed.RUN_TIMEOUT_DEFAULT_S,
    timeoutMaxS: parsed.RUN_TIMEOUT_MAX_S,
    memoryDefaultMb: shared.runMemoryDefaultMb,
    memoryMaxMb: parsed.RUN_MEMORY_MAX_MB,
    vcpusMax: parsed.RUN_VCPUS_MAX,
  };
  const shares = resolveFairShares(parsed);
  // The limits every queued run passes (lib/runs/enqueue-run.ts), whichever way it was asked for.
  const admission = { runsPerMinute: parsed.TOKEN_RUNS_PER_MINUTE, shares, maxQueuedRuns: parsed.MAX_QUEUED_RUNS };
  const tokenLimits = { liveSandboxes: parsed.TOKEN_LIVE_SANDBOXES, ...admission };
  return {
    ...shared,
    port: parsed.PORT,
    host: parsed.HOST,
    publicUrl: (parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/$/, ""),
    maxRequestBytes: parsed.MAX_REQUEST_BYTES,
    waitMarginMs: parsed.WAIT_MARGIN_S * 1000,
    sandboxSettings: {
      limits: { ...runLimits, lifetimeMaxS: parsed.SANDBOX_TIMEOUT_MAX_S },
      modelsDir: shared.modelsDir,
      tokenLimits,
      provisionTimeoutMs: parsed.SANDBOX_PROVISION_TIMEOUT_S * 1000,
    },
    /** What createRun needs: the request limits, where models live, and the admission limits. */
    runSettings: { limits: runLimits, modelsDir: shared.modelsDir, ...admission },
    modelStore: {
      modelsDir: shared.modelsDir,
      maxModelBytes: parsed.MODEL_MAX_BYTES,
      maxFiles: parsed.MODEL_MAX_FILES,
      chunkMaxBytes: parsed.MODEL_CHUNK_MAX_BYTES,
      fetch: parsed.MODEL_FETCH,
      hubUrl: parsed.MODEL_HUB_URL.replace(/\/$/, ""),
    },
    trustProxy: parsed.TRUST_PROXY,
    embedAutorunOrigins: parsed.EMBED_AUTORUN_ORIGINS as ReadonlySet<string>,
    runRetentionDays: parsed.RUN_RETENTION_DAYS,
    /** null: one web server, everything in process. */
    redis: parsed.REDIS_URL ? { url: parsed.REDIS_URL, keyPrefix: parsed.REDIS_KEY_PREFIX } : null,
    rateLimits: {
      playground: { capacity: parsed.RUN_RATE_LIMIT_BURST, refillPerMinute: parsed.RUN_RATE_LIMIT_PER_MINUTE },
      embed: { capacity: parsed.EMBED_RATE_LIMIT_BURST, refillPerMinute: parsed.EMBED_RATE_LIMIT_PER_MINUTE },
      api: { capacity: parsed.API_RATE_LIMIT_BURST, refillPerMinute: parsed.API_RATE_LIMIT_PER_MINUTE },
    },
  };
}

export function webConfig(): WebConfig {
  return processSingleton("webConfig", () => loadWebConfig());
}
