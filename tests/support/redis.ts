import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/** The test Redis (scripts/ensure-redis.sh: Debian's redis-server on 127.0.0.1, started when not running): its URL. */
export function ensureRedis(): string {
  const output = execFileSync("bash", ["scripts/ensure-redis.sh"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return output.trim().split("\n").at(-1)!;
}

/** A REDIS_KEY_PREFIX of its own per test, so runs of the suite never see each other's buckets or streams. */
export function freshKeyPrefix(label: string): string {
  return `test-${label}-${randomBytes(6).toString("hex")}`;
}
