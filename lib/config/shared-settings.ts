import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, statSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { dialectOf } from "@/lib/db/database-dialect";

/** Settings both processes read; each process's own config module composes these. */
export const sharedSettingsSchema = z.object({
  DATA_DIR: z.string().default("./data"),
  DATABASE_PATH: z.string().optional(),
  // PostgreSQL mode (README "PostgreSQL"): a postgres:// URL; unset, the SQLite file at DATABASE_PATH.
  DATABASE_URL: z
    .string()
    .optional()
    .transform((value, ctx) => {
      try {
        return dialectOf(value) === "postgres" ? value : undefined;
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  WORKER_SECRET: z.string().min(16).optional(),
  MODELS_DIR: z.string().optional(),
  // The memory a run gets when it does not say: the web applies it, the worker keeps warm containers for it.
  RUN_MEMORY_DEFAULT_MB: z.coerce.number().int().positive().default(256),
});

export type SharedSettings = {
  dataDir: string;
  databasePath: string;
  /** PostgreSQL's URL in PostgreSQL mode; undefined: the SQLite file at databasePath. */
  databaseUrl: string | undefined;
  /** What openDatabase opens: the PostgreSQL URL, or else the SQLite file. */
  database: string;
  workerSecret: string;
  modelsDir: string;
  runMemoryDefaultMb: number;
};

export function resolveSharedSettings(env: z.infer<typeof sharedSettingsSchema>): SharedSettings {
  const dataDir = path.resolve(/*turbopackIgnore: true*/ env.DATA_DIR);
  // Private to the web user (and root): the database, its WAL and the worker secret live here.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const databasePath = path.resolve(/*turbopackIgnore: true*/ env.DATABASE_PATH ?? path.join(dataDir, "sandpit.db"));
  return {
    dataDir,
    databasePath,
    databaseUrl: env.DATABASE_URL,
    database: env.DATABASE_URL ?? databasePath,
    workerSecret: env.WORKER_SECRET ?? readOrCreateSecret(path.join(/*turbopackIgnore: true*/ dataDir, "worker.secret")),
    modelsDir: path.resolve(/*turbopackIgnore: true*/ env.MODELS_DIR ?? path.join(dataDir, "models")),
    runMemoryDefaultMb: env.RUN_MEMORY_DEFAULT_MB,
  };
}

/** The worker authenticates to the web server with a secret both read from DATA_DIR, so no one has to configure it. */
function readOrCreateSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  try {
    writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
    giveToDirectoryOwner(file);
    return secret;
  } catch {
    // The other process won the race to create it.
    return readFileSync(file, "utf8").trim();
  }
}

export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, processName: string): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid ${processName} configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** An on/off setting written as 1, 0, true or false. */
export const onOff = (name: string, fallback: "0" | "1") =>
  z
    .enum(["0", "1", "true", "false"], { error: `${name} must be 1, 0, true or false` })
    .default(fallback)
    .transform((value) => value === "1" || value === "true");

/**
 * Files in DATA_DIR belong to its owner (the web user, docs/security.md "Least privilege"): when root (the
 * worker) creates one, hand it over, or the web process could not read it.
 */
export function giveToDirectoryOwner(file: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = statSync(path.dirname(file));
  if (uid !== 0) chownSync(file, uid, gid);
}
