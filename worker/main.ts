import { abandonFailedTransaction, openDatabase } from "@/lib/db/open-database";
import { heartbeat, registerWorker, unregisterWorker } from "@/lib/workers/worker-registry";
import { countLiveSandboxes } from "@/lib/sandboxes/sandbox-lifecycle";
import { CapacityTracker } from "./capacity/capacity-tracker";
import { drainWorker } from "./lifecycle/drain-worker";
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
import { PostgresCommandListener } from "./postgres-command-listener";
import type { WorkerCommand } from "@/lib/realtime/events";
import { RetentionSweeper } from "./retention/retention-sweeper";

const REAP_INTERVAL_MS = 10_000;
/** How often a draining worker checks whether its runs and sandboxes are done. */
const DRAIN_CHECK_MS = 500;

/** The worker process: the only one that talks to Docker. */
async function main() {
  const config = loadWorkerConfig();
  const db = await openDatabase(config.database);
  const engine = new DockerEngine(config.dockerSocket, config.instanceId);
  await waitForDocker(engine);
  const runscDockerRuntime = config.sandboxLimits.runscDockerRuntime;
  const containerRuntime = await chooseContainerRuntime(engine, config.sandboxRuntime, runscDockerRuntime);

  const gvisor = containerRuntime === "runsc" ? await describeGvisor((await engine.registeredRuntime(runscDockerRuntime)) ?? {}) : null;
  const gpus = await detectGpus(engine, { containerRuntime, runscDockerRuntime, gpuDevices: config.gpu.devices, slotsPerDevice: config.gpu.slotsPerDevice });
  const capacity = new CapacityTracker(engine, config.imagePrefix, config.workerId);
  await capacity.refresh(null, true);
  await registerWorker(db, config.workerId, {
    gpus: gpus.passthrough ? gpus.devices.length : 0,
    runtime: { containerRuntime, gvisor },
    gpuInventory: gpus,
    capacity: capacity.capacity({ concurrency: config.concurrency, activeRuns: 0, liveSandboxes: 0, pool: [] }),
    staleAfterMs: config.staleAfterMs,
  });
  let loop: RunQueueLoop | undefined;
  let sandboxes: SandboxSupervisor | undefined;
  const onCommand = (command: WorkerCommand) => {
    if (command.type === "wake") {
      sandboxes?.pump();
      loop?.pump();
    } else if (command.type === "cancel") loop?.cancel(command.runId);
    else void sandboxes?.remove(command.sandboxId, "deleted");
  };
  const link = new WebLink(config.webUrl, config.workerSecret, onCommand);
  // PostgreSQL mode: commands from any web server arrive by LISTEN (the web sends them by NOTIFY).
  const listener = config.databaseUrl ? new PostgresCommandListener(config.databaseUrl, onCommand) : undefined;
  listener?.start();
  const publish = link.publish.bind(link);
  const publishSandbox = link.publishSandbox.bind(link);
  // When this worker's database connection last came back (null: failing now). Until it has been healthy for a
  // whole stale period it judges no other worker dead by silence (judgeWorkers): it may have missed their beats.
  let connectedSince: number | null = Date.now();
  const reap = () =>
    reapOrphans(db, engine, publish, {
      workerId: config.workerId,
      trustStaleness: connectedSince !== null && Date.now() - connectedSince >= config.staleAfterMs,
      publishSandbox,
    });

  await reap();
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
    // Only runtimes whose image this engine has: the others' containers could never be created.
    defaultKeys: runtimeCatalog()
      .names.filter((runtime) => capacity.runtimes().includes(runtime))
      .map((runtime) => ({ runtime, ...defaultLimits })),
  });
  const launchDeps = { ...baseDeps, pool: config.pool.enabled ? pool : undefined };
  pool.start();
  sandboxes = new SandboxSupervisor({
    ...launchDeps,
    gpus: { inventory: gpus, waitMs: config.gpu.waitMs },
    publishRun: publish,
    publishSandbox,
    webUrl: config.webUrl,
    routing: { capacity, affinityGraceMs: config.requirements.affinityGraceMs },
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
    () => capacity.runtimes(),
  );
  loop.start();
  const retention = new RetentionSweeper(db, config.retention);
  retention.start();
  engine.watch(() => {
    console.error("[worker] lost the Docker engine: ending the runs in flight; new runs wait for it");
    loop?.engineLost();
  });
  console.log(
    `[worker] ${config.workerId} ready: ${containerRuntime}${gvisor ? ` (gVisor ${gvisor.version}, platform ${gvisor.platform}, ${gvisor.path})` : ""}, concurrency ${config.concurrency}, warm pool ${config.pool.enabled ? `${config.pool.min}–${config.pool.max} per runtime` : "off"}, runtimes ${capacity.runtimes().join(" ") || "none (no runtime image: run npm run images)"}`,
  );

  let beating = false;
  const beat = async () => {
    if (beating) return; // a slow database: never two beats at once
    beating = true;
    try {
      await capacity.refresh(db);
      const load = {
        concurrency: config.concurrency,
        activeRuns: loop!.activeRunIds().length,
        liveSandboxes: await countLiveSandboxes(db, config.workerId),
        pool: pool.state(),
      };
      const state = await heartbeat(db, config.workerId, capacity.capacity(load));
      connectedSince ??= Date.now();
      // A shutdown deletes the row itself: only a row gone otherwise means this worker was judged dead.
      if (state === null) {
        if (!shuttingDown) declaredDead();
      } else if (state.draining) void drain("npm run worker:drain");
    } catch (error) {
      connectedSince = null;
      abandonFailedTransaction(db);
      // A locked or full database: the next beat tries again (other workers see us as live for a while).
      console.error("[worker] heartbeat failed:", (error as Error).message);
    } finally {
      beating = false;
    }
  };
  const heartbeatTimer = setInterval(() => void beat(), config.heartbeatMs);
  const reapTimer = setInterval(() => {
    reap().catch((error) => console.error("[worker] reaping failed:", error));
  }, REAP_INTERVAL_MS);

  // Another worker judged this one dead and has ended or re-queued its runs and failed its sandboxes: going on
  // would run re-queued runs twice. Exit at once; the process manager starts a fresh worker, whose reaping
  // removes what this one leaves running.
  const declaredDead = () => {
    console.error(
      `[worker] ${config.workerId} was judged dead by another worker (silent for over ${config.staleAfterMs / 1000} s): its runs were ended or re-queued and its sandboxes marked lost; exiting`,
    );
    process.exit(1);
  };

  let draining = false;
  let shuttingDown = false;
  /** Draining (drainWorker), then exiting as a shutdown does. */
  const drain = async (reason: string) => {
    if (draining || shuttingDown) return;
    draining = true;
    console.log(`[worker] draining (${reason}): claiming nothing new; exiting once its runs and sandboxes are done`);
    if (!(await drainWorker({ db, workerId: config.workerId, loop: loop!, sandboxes: sandboxes!, pool }, DRAIN_CHECK_MS, () => shuttingDown))) return;
    console.log("[worker] drained: every run and sandbox is done");
    await shutdown();
  };

  const shutdown = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
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
    listener?.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown());
  process.once("SIGINT", () => void shutdown());
  process.on("SIGUSR2", () => void drain("SIGUSR2"));
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
