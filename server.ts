import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import next from "next";
import { webConfig } from "@/lib/config/web-config";
import { postgresOf } from "@/lib/db/open-database";
import { webDatabase } from "@/lib/db/web-database";
import { guardIncomingRequest } from "@/lib/http/guard-incoming-request";
import { serveWebHandler } from "@/lib/http/serve-web-handler";
import { attachSocketServer } from "@/lib/realtime/attach-socket-server";
import { notifyWorkers } from "@/lib/realtime/postgres-worker-commands";
import { installWorkerNotifier } from "@/lib/realtime/web-bus";
import { connectWebRedis } from "@/lib/redis/connect-web-redis";
import { createRunResponse } from "@/lib/runs/create-run-response";
import { answerExpiredSharePage } from "@/lib/runs/expired-share-page";

const NEXT_ACTION_BODY_LIMIT_BYTES = 1024 * 1024;

/** The web process: Next.js (pages, API, server actions) and Socket.IO on one port. */
async function main() {
  const config = webConfig();
  // Before anything uses it: with REDIS_URL, Socket.IO and the rate limits are shared with the other web servers.
  await connectWebRedis(config.redis);
  const dev = process.argv.includes("--dev");
  const app = next({ dev, hostname: config.host, port: config.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  // Server actions are also bound by Next's own body limit (serverActions.bodySizeLimit, 1 MiB by default).
  const guard = { trustProxy: config.trustProxy, maxRequestBytes: Math.min(config.maxRequestBytes, NEXT_ACTION_BODY_LIMIT_BYTES) };
  const db = await webDatabase();
  const route = async (request: IncomingMessage, response: ServerResponse) => {
    if (guardIncomingRequest(request, response, guard)) return;
    if (await answerExpiredSharePage(request, response, db, config.runRetentionDays)) return;
    // The API's hot path skips Next's routing and page proxy (see serve-web-handler.ts).
    if (request.method === "POST" && request.url?.split("?", 1)[0] === "/api/v1/runs") return serveWebHandler(request, response, createRunResponse);
    return handle(request, response);
  };
  const httpServer = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      // The expired-run lookup failed (storage fault): answer 503 rather than leave the request hanging.
      console.error("[web] request failed:", (error as Error).message);
      if (!response.headersSent) response.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
      response.end("service unavailable");
    });
  });
  attachSocketServer(httpServer, db, config.workerSecret, guard);
  // PostgreSQL mode: commands reach every worker through the database, whichever web server it is linked to.
  const postgres = postgresOf(db);
  if (postgres) installWorkerNotifier((command) => notifyWorkers(postgres, command));
  if (dev) {
    // Next.js dev HMR; a failed upgrade closes that one socket instead of becoming an unhandled rejection.
    const upgrade = app.getUpgradeHandler();
    httpServer.on("upgrade", (request, socket, head) => {
      upgrade(request, socket, head).catch((error: unknown) => {
        console.error("[web] upgrade failed:", error);
        socket.destroy();
      });
    });
  }
  httpServer.listen(config.port, config.host, () => {
    console.log(`[web] listening on http://${config.host}:${config.port} (${dev ? "dev" : "production"})`);
  });
  const shutdown = () => httpServer.close(() => process.exit(0));
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error) => {
  console.error("[web] failed to start:", error);
  process.exit(1);
});
