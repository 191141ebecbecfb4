import { abandonFailedTransaction, openDatabase } from "@/lib/db/open-database";
import { heartbeat, registerWorker, unregisterWorker } from "@/lib/workers/worker-registry";
import { loadWorkerConfig } from "./config";
import { DockerEngine } from "./engine/docker-engine";
import { RunQueueLoop } from "./queue/run-queue-loop";
import { reapOrphans } from "./recovery/reap-orphans";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { singleUseRequest } from "./execution/launchers";
import { WarmPool } from "./pool/warm-pool";
import { buildContainerSpec } from "./container/build-container-spec";
import { DEFAULT_HARDENING } from "./container/hardening-policy";
import { chooseContainerRuntime } from "./container/choose-container-runtime";
import { describeGvisor } from "./container/describe-gvisor";
import { detectGpus } from "./container/detect-gpus";
import { SandboxSupervisor } from "./sandboxes/sandbox-supervisor";
import { WebLink } from "./web-link";
import { RetentionSweeper } from "./retention/retention-sweeper";

const REAP_INTERVAL_MS = 10_000;

/** The worker process: the only one that talks to Docker. */
async function main() {
  const config = loadWorkerConfig();
  const db = await openDatabase(config.databasePath);
  const engine = new DockerEngine(config.dockerSocket, config.instanceId);
  await waitForDocker(engine);
  const runscDockerRuntime = config.sandboxLimits.runscDockerRuntime;
  const containerRuntime = await chooseContainerRuntime(engine, config.sandboxRuntime, runscDockerRuntime);

  const gvisor = containerRuntime === "runsc" ? await describeGvisor((await engine.registeredRuntime(runscDockerRuntime)) ?? {}) : null;
  const gpus = await detectGpus(engine, { containerRuntime, runscDockerRuntime, gpuDevices: config.gpu.devices, slotsPerDevice: config.gpu.slotsPerDevice });
  await registerWorker(db, config.workerId, gpus.passthrough ? gpus.devices.length : 0, { containerRuntime, gvisor }, gpus);
  let loop: RunQueueLoop | undefined;
  let sandboxes: SandboxSupervisor | undefined;
  const link = new WebLink(config.webUrl, config.workerSecret, (command) => {
    if (command.type === "wake") {
      sandboxes?.pump();
      loop?.pump();
    } else if (command.type === "cancel") loop?.cancel(command.runId);
    else void sandboxes?.remove(command.sandboxId, "deleted");
  });
  const publish = link.publish.bind(link);

  await reapOrphans(db, engine, publish);
  const baseDeps = {
    db,
    engine,
    policy: { ...DEFAULT_HARDENING, ...config.sandboxLimits },
    workerId: config.workerId,
    instanceId: config.instanceId,
    imagePrefix: config.imagePrefix,
    modelsDir: config.modelsDir,
    containerRuntime,
  };
  const { defaultLimits, ...poolSettings } = config.pool;
  const pool = new WarmPool(engine, (key) => buildContainerSpec({ ...singleUseRequest(key, baseDeps), role: { pool: true } }, baseDeps.policy), {
    ...poolSettings,
    defaultKeys: runtimeCatalog().names.map((runtime) => ({ runtime, ...defaultLimits })),
  });
  const launchDeps = { ...baseDeps, pool: config.pool.enabled ? pool : undefined };
  pool.start();
  sandboxes = new SandboxSupervisor({
    ...launchDeps,
    gpus: { inventory: gpus, waitMs: config.gpu.waitMs },
    publishRun: publish,
    publishSandbox: link.publishSandbox.bind(link),
    webUrl: config.webUrl,
    requirements: {
      ...config.requirements,
      // The fetch step runs under gVisor when Docker has a gVisor runtime that may reach the proxy's host socket.
      fetchDockerRuntime:
        containerRuntime === "runsc" && (await engine.registeredRuntimes()).includes(config.requirements.fetchDockerRuntime)
          ? config.requirements.fetchDockerRuntime
          : null,
    },
  });
  sandboxes.start();
  loop = new RunQueueLoop(
    db,
    { ...launchDeps, outputLimitBytes: config.outputLimitBytes, publish },
    config.concurrency,
    config.queuePollMs,
    config.runningShares,
  );
  loop.start();
  const retention = new RetentionSweeper(db, config.retention);
  retention.start();
  engine.watch(() => {
    console.error("[worker] lost the Docker engine: ending the runs in flight; new runs wait for it");
    loop?.engineLost();
  });
  console.log(
    `[worker] ${config.workerId} ready: ${containerRuntime}${gvisor ? ` (gVisor ${gvisor.version}, platform ${gvisor.platform}, ${gvisor.path})` : ""}, concurrency ${config.concurrency}, warm pool ${config.pool.enabled ? `${config.pool.min}–${config.pool.max} per runtime` : "off"}`,
  );

  const heartbeatTimer = setInterval(() => {
    heartbeat(db, config.workerId).catch((error: unknown) => {
      abandonFailedTransaction(db);
      // A locked or full database: the next beat tries again (other workers see us as live for a while).
      console.error("[worker] heartbeat failed:", (error as Error).message);
    });
  }, config.heartbeatMs);
  const reapTimer = setInterval(() => {
    reapOrphans(db, engine, publish).catch((error) => console.error("[worker] reaping failed:", error));
  }, REAP_INTERVAL_MS);

  const shutdown = async () => {
    console.log("[worker] shutting down: finishing active runs");
    loop!.stop();
    sandboxes!.stop();
    clearInterval(reapTimer);
    retention.stop();
    const poolStopped = pool.stop();
    const deadline = Date.now() + 30_000;
    while (loop!.activeRunIds().length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await poolStopped;
    clearInterval(heartbeatTimer);
    await unregisterWorker(db, config.workerId).catch((error: unknown) => console.error("[worker] could not unregister:", (error as Error).message));
    link.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown());
  process.once("SIGINT", () => void shutdown());
}

async function waitForDocker(engine: DockerEngine): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await engine.ping();
    } catch (error) {
      if (attempt % 10 === 0) console.warn("[worker] waiting for the Docker engine:", (error as Error).message);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

main().catch((error) => {
  console.error("[worker] fatal:", error);
  process.exit(1);
});
