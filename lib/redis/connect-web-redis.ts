import { createClient } from "redis";
import { installWebRedis, type RedisClient, type WebRedis } from "./web-redis";

const ERROR_LOG_INTERVAL_MS = 30_000;

/** Logs a client's first error of an outage and then at most one every 30 s (it retries every 2 s or so). */
function logErrors(client: RedisClient, name: string): void {
  let lastLoggedAt = 0;
  let failing = false;
  client.on("error", (error: Error) => {
    const now = Date.now();
    if (!failing || now - lastLoggedAt >= ERROR_LOG_INTERVAL_MS) console.error(`[web] redis (${name}): ${error.message}; retrying`);
    failing = true;
    lastLoggedAt = now;
  });
  client.on("ready", () => {
    if (failing) console.log(`[web] redis (${name}): connected again`);
    failing = false;
  });
}

/**
 * The Socket.IO streams adapter sends PUBLISH without keeping the promise: one in flight when the connection drops
 * would reject unhandled and end the process. Give every publish a handler; callers still see the same promise.
 */
function handlePublishFailures(client: RedisClient): void {
  const publish = client.publish.bind(client);
  const guarded = (...args: Parameters<typeof publish>) => {
    const sent = publish(...args);
    sent.catch(() => {});
    return sent;
  };
  Object.assign(client, { publish: guarded });
}

/**
 * Connects to REDIS_URL (when set) before the web server listens, and makes the connections what webRedis()
 * returns. Waits while Redis is unreachable (the client retries; errors are logged).
 */
export async function connectWebRedis(settings: { url: string; keyPrefix: string } | null): Promise<WebRedis | null> {
  if (!settings) return null;
  const fanOut = createClient({ url: settings.url });
  const commands = createClient({ url: settings.url, disableOfflineQueue: true });
  logErrors(fanOut, "fan-out");
  logErrors(commands, "commands");
  handlePublishFailures(fanOut);
  await Promise.all([fanOut.connect(), commands.connect()]);
  const redis = { fanOut, commands, keyPrefix: settings.keyPrefix } as WebRedis;
  installWebRedis(redis);
  console.log(`[web] redis: connected (${new URL(settings.url).host}); Socket.IO and rate limits are shared`);
  return redis;
}
