import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

function ensureRedisScript(args: string[], port?: number): string {
  return execFileSync("bash", ["scripts/ensure-redis.sh", ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...(port && { SANDPIT_REDIS_PORT: String(port) }) },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/**
 * The test Redis (scripts/ensure-redis.sh: Debian's redis-server on 127.0.0.1, started when not running): its URL.
 * A test that stops it passes a port of its own, so it never stops the one other tests use.
 */
export function ensureRedis(port?: number): string {
  return ensureRedisScript([], port).trim().split("\n").at(-1)!;
}

export function stopRedis(port: number): void {
  ensureRedisScript(["stop"], port);
}

/** A REDIS_KEY_PREFIX of its own per test, so runs of the suite never see each other's buckets or streams. */
export function freshKeyPrefix(label: string): string {
  return `test-${label}-${randomBytes(6).toString("hex")}`;
}
