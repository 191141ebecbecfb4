import { abandonFailedTransaction } from "@/lib/db/open-database";
import type { SandboxRow } from "@/lib/db/schema";
import type { RunEvent, SandboxEvent } from "@/lib/realtime/events";
import { resolveModelPath } from "@/lib/models/list-models";
import { NO_GPUS, type GpuInventory } from "@/lib/gpus/gpu-inventory";
import { waitForGpuSlot } from "./wait-for-gpu-slot";
import { sandboxBaseImage } from "./sandbox-base-image";
import { toEndEvent } from "@/lib/runs/run-view";
import {
  cancelQueuedRunsOf,
  claimNextSandbox,
  dueSandboxes,
  endSandbox,
  endSandboxTree,
  markSandboxReady,
  orphanedChildren,
} from "@/lib/sandboxes/sandbox-lifecycle";
import { createSandboxToken } from "@/lib/auth/api-tokens";
import { uploadCommand } from "@/lib/sandboxes/sandbox-file-commands";
import { findSandbox } from "@/lib/sandboxes/sandbox-view";
import { getRuntime } from "@/lib/runtimes/catalog";
import { buildContainerSpec } from "../container/build-container-spec";
import type { LaunchDeps } from "../execution/launchers";
import { ensureRequirementsImage, requirementsImageTag } from "./requirements-image";
import { leaveToImageHolder, type SandboxCandidate } from "@/lib/workers/sandbox-routing";
import type { CapacityTracker } from "../capacity/capacity-tracker";
import { describeEngineError } from "../engine/describe-engine-error";
import { describeSandboxFailure } from "@/lib/requirements/requirements-errors";
import { RequirementsCache } from "./requirements-cache";
import {
  CHANNEL_MOUNT,
  CHANNEL_RELAY_PORT,
  CHANNEL_SOCKET_NAME,
  CHANNEL_TOKEN_PLACEHOLDER,
  startSandboxApiChannel,
  type SandboxApiChannel,
} from "./sandbox-api-channel";
import { startSocketRelay } from "./socket-relay";
import { serialPump } from "../queue/serial-pump";

export type SupervisorDeps = LaunchDeps & {
  /** This worker's GPUs and how long a GPU sandbox waits for a slot; absent: no GPUs. */
  gpus?: { inventory: GpuInventory; waitMs: number };
  publishRun: (event: RunEvent) => void;
  publishSandbox: (event: SandboxEvent) => void;
  requirements: {
    cacheBytes: number;
    buildTimeoutMs: number;
    usageFile: string | null;
    pipIndexUrl: string;
    pipFileHosts?: string[];
    npmRegistry: string;
    /** Docker's gVisor runtime with host Unix sockets allowed, for the fetch step; null: the fetch step runs under runc. */
    fetchDockerRuntime: string | null;
  };
  /** The web server a nested sandbox's API channel forwards to (WEB_URL). */
  webUrl: string;
  /** Routing beyond GPUs (lib/workers/sandbox-routing.ts); absent: any runtime, no requirements-image affinity. */
  routing?: {
    capacity: Pick<CapacityTracker, "runtimes" | "builtHere" | "builtElsewhere" | "noteBuilt">;
    /** How long a sandbox is left to a worker that has its requirements image built (REQUIREMENTS_AFFINITY_S). */
    affinityGraceMs: number;
  };
};

const EXPIRY_SWEEP_MS = 250;

/**
 * Keeps this worker's sandboxes: provisions new ones (requirements image, container, code and files),
 * removes them on delete, and expires them when their lifetime is over, whether or not anyone asks.
 */
export class SandboxSupervisor {
  private sweepTimer: NodeJS.Timeout | undefined;
  private provisioning = 0;
  private draining = false;
  /** Sandboxes being provisioned: deleting one cancels its wait for (and, unshared, its) requirements build. */
  private readonly provisioningCancels = new Map<string, AbortController>();
  /** The API channels of this worker's nested sandboxes, closed when the sandbox ends. */
  private readonly channels = new Map<string, SandboxApiChannel>();

  private readonly requirementsCache: RequirementsCache;

  constructor(private readonly deps: SupervisorDeps) {
    this.requirementsCache = new RequirementsCache(deps.engine, deps.requirements.cacheBytes, deps.requirements.usageFile);
  }

  start(): void {
    this.sweepTimer = setInterval(() => {
      this.expireDue().catch((error) => console.error("[worker] sandbox expiry failed:", (error as Error).message));
      this.pump(); // in case a wake was missed
    }, EXPIRY_SWEEP_MS);
    this.pump();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
    for (const channel of this.channels.values()) void channel.close().catch(() => {});
    this.channels.clear();
  }

  /**
   * Draining: claims no new sandbox; those it holds live on until deleted or expired (the sweep goes on), and the
   * ones being provisioned finish.
   */
  drain(): void {
    this.draining = true;
  }

  /** Sandboxes being provisioned now. */
  provisioningCount(): number {
    return this.provisioning;
  }

  /**
   * Provisions waiting sandboxes (a few at a time: requirement builds are slow). One claim loop at a time, so
   * two pumps cannot both see a free provisioning slot while their claims are awaited.
   */
  readonly pump = serialPump(() => this.claimWhileFree());

  private async claimWhileFree(): Promise<void> {
    while (this.provisioning < 2 && !this.draining) {
      let sandbox: SandboxRow | undefined;
      try {
        sandbox = await claimNextSandbox(this.deps.db, this.deps.workerId, {
          gpus: this.deps.gpus?.inventory ?? NO_GPUS,
          runtimes: this.deps.routing?.capacity.runtimes() ?? null,
          defer: (candidate, now) => this.leaveToImageHolder(candidate, now),
        });
      } catch (error) {
        abandonFailedTransaction(this.deps.db);
        // Database locked past its busy timeout, or unwritable: the next sweep tries again.
        console.error("[worker] could not claim a sandbox:", (error as Error).message);
        return;
      }
      if (!sandbox) return;
      this.provisioning++;
      void this.provision(sandbox).finally(() => {
        this.provisioning--;
        this.pump();
      });
    }
  }

  /** Requirements-image affinity (leaveToImageHolder): only for CPU sandboxes, whose image tag every worker computes alike. */
  private leaveToImageHolder(candidate: SandboxCandidate, now: number): boolean {
    const routing = this.deps.routing;
    if (!routing || candidate.gpu) return false;
    const requirements = JSON.parse(candidate.requirements) as string[];
    if (!requirements.length || getRuntime(candidate.runtime).requirements === "none") return false;
    const tag = this.requirementsTag(candidate.runtime, requirements);
    return leaveToImageHolder({
      builtHere: routing.capacity.builtHere(tag),
      builtElsewhere: routing.capacity.builtElsewhere(tag),
      waitedMs: now - candidate.createdAt,
      graceMs: routing.affinityGraceMs,
    });
  }

  /** The tag ensureRequirementsImage gives a CPU sandbox's image (on the runtime's own image). */
  private requirementsTag(runtime: string, requirements: string[]): string {
    const { imagePrefix, requirements: settings } = this.deps;
    const request = { imagePrefix, runtime, requirements, pipIndexUrl: settings.pipIndexUrl, npmRegistry: settings.npmRegistry };
    return requirementsImageTag(request, `${imagePrefix}${runtime}`);
  }

  /** Ends a sandbox and its descendants (a parent takes its whole tree with it) and removes their containers. */
  async remove(sandboxId: string, status: "deleted" | "expired" | "error", reason: string | null = null): Promise<void> {
    const endedNow = await endSandboxTree(this.deps.db, sandboxId, status, reason);
    const top = endedNow.find((row) => row.id === sandboxId) ?? (await findSandbox(this.deps.db, sandboxId));
    if (!top) return;
    for (const row of [top, ...endedNow.filter((other) => other.id !== sandboxId)]) await this.release(row, endedNow.includes(row));
  }

  private async release(sandbox: SandboxRow, endedNow: boolean): Promise<void> {
    const { status } = sandbox;
    if (endedNow) this.deps.publishSandbox({ type: "sandbox", sandboxId: sandbox.id, status: status as "deleted" | "expired" | "error", error: sandbox.error });
    for (const run of await cancelQueuedRunsOf(this.deps.db, sandbox.id, `sandbox ${status}`)) this.deps.publishRun(toEndEvent(run));
    this.provisioningCancels.get(sandbox.id)?.abort(new Error(`sandbox ${status}`));
    await this.closeChannel(sandbox.id);
    if (sandbox.containerId) await this.deps.engine.remove(sandbox.containerId).catch(() => {});
  }

  private async closeChannel(sandboxId: string): Promise<void> {
    const channel = this.channels.get(sandboxId);
    this.channels.delete(sandboxId);
    await channel?.close().catch(() => {});
  }

  private async expireDue(): Promise<void> {
    for (const sandbox of await dueSandboxes(this.deps.db, this.deps.workerId)) await this.remove(sandbox.id, "expired");
    // Children whose parent ended elsewhere (another worker, or while they were being made) go the same way.
    for (const child of await orphanedChildren(this.deps.db, this.deps.workerId)) await this.remove(child.id, "deleted", "its parent sandbox ended");
  }

  private async provision(sandbox: SandboxRow): Promise<void> {
    const { db, engine } = this.deps;
    let containerId: string | undefined;
    const cancel = new AbortController();
    this.provisioningCancels.set(sandbox.id, cancel);
    try {
      const asked = JSON.parse(sandbox.requirements) as string[];
      const { baseImage, requirements } = await sandboxBaseImage(engine, this.deps.imagePrefix, sandbox.runtime, asked, Boolean(sandbox.gpu));
      const { image, cached } = await ensureRequirementsImage(
        engine,
        this.requirementsCache,
        {
          imagePrefix: this.deps.imagePrefix,
          runtime: sandbox.runtime,
          requirements,
          baseImage,
          buildTimeoutMs: this.deps.requirements.buildTimeoutMs,
          pipIndexUrl: this.deps.requirements.pipIndexUrl,
          pipFileHosts: this.deps.requirements.pipFileHosts,
          npmRegistry: this.deps.requirements.npmRegistry,
        },
        {
          sandboxId: sandbox.id,
          workerId: this.deps.workerId,
          instanceId: this.deps.instanceId,
          policy: this.deps.policy,
          containerRuntime: this.deps.containerRuntime,
          fetchDockerRuntime: this.deps.requirements.fetchDockerRuntime,
        },
        cancel.signal,
      );
      // Advertised with the next heartbeat: other workers leave sandboxes needing this image to this one for a while.
      if (requirements.length) this.deps.routing?.capacity.noteBuilt(image);
      let model: { hostPath: string; name: string } | undefined;
      if (sandbox.model) {
        const hostPath = resolveModelPath(this.deps.modelsDir, sandbox.model);
        if (!hostPath) throw new Error(`model ${sandbox.model} is not in the model store`);
        model = { hostPath, name: sandbox.model };
      }
      const gpu = sandbox.gpu
        ? await waitForGpuSlot(db, this.deps.workerId, this.deps.gpus ?? { inventory: NO_GPUS, waitMs: 0 }, { id: sandbox.id, gpu: sandbox.gpu }, cancel.signal)
        : undefined;
      const env = Object.entries(JSON.parse(sandbox.env) as Record<string, string>).map(([key, value]) => `${key}=${value}`);
      const channel = sandbox.nested ? await this.openChannel(sandbox) : null;
      if (channel) env.push(`SANDPIT_API_URL=http://127.0.0.1:${CHANNEL_RELAY_PORT}`, `SANDPIT_API_TOKEN=${CHANNEL_TOKEN_PLACEHOLDER}`);
      const spec = buildContainerSpec(
        {
          role: { sandbox: sandbox.id },
          workerId: this.deps.workerId,
          instanceId: this.deps.instanceId,
          image,
          memoryMb: sandbox.memoryMb,
          cpus: sandbox.cpus / 1000,
          model,
          gpu,
          containerRuntime: this.deps.containerRuntime,
          // The same read-only folder-with-a-socket mount as the requirements fetch step's proxy.
          registryProxy: channel ? { hostDir: channel.hostDir, mountPath: CHANNEL_MOUNT } : undefined,
        },
        {
          ...this.deps.policy,
          env: [...this.deps.policy.env, ...env],
          // Under gVisor, a host Unix socket is reachable only with a runtime registered with --host-uds=open.
          ...(channel && this.deps.requirements.fetchDockerRuntime ? { runscDockerRuntime: this.deps.requirements.fetchDockerRuntime } : {}),
        },
      );
      containerId = await engine.startDetached(spec);
      if (channel) {
        // Nested sandboxes run only on runtimes whose image carries an SDK, and with it the relay's interpreter.
        const installer = getRuntime(sandbox.runtime).requirements;
        if (installer === "none") throw new Error(`runtime ${sandbox.runtime} has no interpreter for the sandbox API relay`);
        const relay = { installer, port: CHANNEL_RELAY_PORT, socketPath: `${CHANNEL_MOUNT}/${CHANNEL_SOCKET_NAME}` };
        await startSocketRelay(engine, containerId, { ...relay, user: this.deps.policy.user, workingDir: "/sandbox" }, cancel.signal);
      }

      const files = JSON.parse(sandbox.files) as { path: string; content: string }[];
      if (sandbox.code) files.push({ path: getRuntime(sandbox.runtime).sourceFile, content: Buffer.from(sandbox.code).toString("base64") });
      for (const file of files) await this.writeFile(containerId, file.path, file.content);

      const ready = await markSandboxReady(db, sandbox.id, containerId, cached);
      if (!ready) {
        // Deleted while it was being made (or its parent was).
        await this.closeChannel(sandbox.id);
        await engine.remove(containerId);
        if (sandbox.parentSandboxId) await endSandbox(db, sandbox.id, "deleted", "its parent sandbox ended", null);
        return;
      }
      this.deps.publishSandbox({ type: "sandbox", sandboxId: sandbox.id, status: "ready", error: null });
    } catch (error) {
      const message = describeEngineError(error);
      console.error(`[worker] sandbox ${sandbox.id} failed to start:`, message.slice(0, 500));
      if (containerId) await engine.remove(containerId).catch(() => {});
      await this.closeChannel(sandbox.id);
      const failure = describeSandboxFailure(error, describeEngineError);
      const failed = await endSandbox(db, sandbox.id, "error", failure.message, failure.kind);
      if (failed) this.deps.publishSandbox({ type: "sandbox", sandboxId: sandbox.id, status: "error", error: failed.error });
    } finally {
      this.provisioningCancels.delete(sandbox.id);
    }
  }

  /**
   * A nested sandbox's API channel and scoped token. The token stays in this process: the channel adds it
   * to each request, so the sandbox holds nothing that works anywhere else.
   */
  private async openChannel(sandbox: SandboxRow): Promise<SandboxApiChannel> {
    if (this.deps.containerRuntime === "runsc" && !this.deps.requirements.fetchDockerRuntime) {
      throw new Error("nested sandboxes under gVisor need a Docker runtime with host Unix sockets (REQUIREMENTS_FETCH_DOCKER_RUNTIME)");
    }
    const { token } = await createSandboxToken(this.deps.db, sandbox.id, sandbox.expiresAt);
    const channel = await startSandboxApiChannel({
      webUrl: this.deps.webUrl,
      token,
      deadline: async () => {
        const current = await findSandbox(this.deps.db, sandbox.id);
        return current && (current.status === "ready" || current.status === "creating") ? current.expiresAt : 0;
      },
    });
    this.channels.set(sandbox.id, channel);
    return channel;
  }

  /** Writes a file as the sandbox's own user, inside the sandbox, following no links: never a privileged write into its filesystem. */
  private async writeFile(containerId: string, relativePath: string, base64: string): Promise<void> {
    const result = await this.deps.engine.execCollect(containerId, { cmd: ["bash", "-c", uploadCommand(relativePath)], workingDir: "/sandbox" }, base64);
    if (result.exitCode !== 0) throw new Error(`could not write ${relativePath}: ${result.stderr.trim()}`);
  }
}
