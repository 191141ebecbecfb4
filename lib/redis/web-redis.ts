import type { createClient } from "redis";
import { processSingleton } from "@/lib/os/process-singleton";

export type RedisClient = ReturnType<typeof createClient>;

/**
 * This web server's connections to Redis, shared by several web servers (REDIS_URL). The one place that says
 * whether this process is alone (null: Socket.IO and the rate limits stay in process) or one of several.
 */
export type WebRedis = {
  /** For the Socket.IO adapter: its offline queue keeps what is sent while Redis reconnects. */
  fanOut: RedisClient;
  /** For short commands on a request's path (rate limits): fails at once while Redis is away instead of queueing. */
  commands: RedisClient;
  /** Starts every key and channel name (REDIS_KEY_PREFIX). */
  keyPrefix: string;
};

const holder = () => processSingleton("webRedis", () => ({ current: null as WebRedis | null }));

/**
 * Null unless server.ts connected to REDIS_URL (connectWebRedis). The Next.js bundle reads the same value
 * (a process singleton) without loading the Redis client itself; under `next dev` alone it stays null.
 */
export function webRedis(): WebRedis | null {
  return holder().current;
}

export function installWebRedis(redis: WebRedis): void {
  holder().current = redis;
}
