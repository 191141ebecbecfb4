import { abandonFailedTransaction } from "@/lib/db/open-database";
import type { SandboxRow } from "@/lib/db/schema";
import type { RunEvent, SandboxEvent } from "@/lib/realtime/events";
import { resolveModelPath } from "@/lib/models/list-models";
import { toEndEvent } from "@/lib/runs/run-view";
import { cancelQueuedRunsOf, claimNextSandbox, dueSandboxes, endSandbox, markSandboxReady } from "@/lib/sandboxes/sandbox-lifecycle";
import { uploadCommand } from "@/lib/sandboxes/sandbox-file-commands";
import { findSandbox } from "@/lib/sandboxes/sandbox-view";
import { buildContainerSpec } from "../container/build-container-spec";
import type { LaunchDeps } from "../execution/launchers";
import { ensureRequirementsImage } from "./requirements-image";
import { describeEngineError } from "../engine/describe-engine-error";
import { describeSandboxFailure } from "@/lib/requirements/requirements-errors";
import { RequirementsCache } from "./requirements-cache";

export type SupervisorDeps = LaunchDeps & {
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
};

const SOURCE_FILE: Record<string, string> = { python: "main.py", node: "main.js", deno: "main.ts", go: "main.go", bash: "main.sh" };
const EXPIRY_SWEEP_MS = 250;

/**
 * Keeps this worker's sandboxes: provisions new ones (requirements image, container, code and files),
 * removes them on delete, and expires them when their lifetime is over, whether or not anyone asks.
 */
export class SandboxSupervisor {
  private sweepTimer: NodeJS.Timeout | undefined;
  private provisioning = 0;
  /** Sandboxes being provisioned: deleting one cancels its wait for (and, unshared, its) requirements build. */
  private readonly provisioningCancels = new Map<string, AbortController>();

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
  }

  /** Provisions waiting sandboxes (a few at a time: requirement builds are slow). */
  pump(): void {
    while (this.provisioning < 2) {
      let sandbox: SandboxRow | undefined;
      try {
        sandbox = claimNextSandbox(this.deps.db, this.deps.workerId);
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

  async remove(sandboxId: string, status: "deleted" | "expired" | "error", reason: string | null = null): Promise<void> {
    const ended = endSandbox(this.deps.db, sandboxId, status, reason) ?? findSandbox(this.deps.db, sandboxId);
    if (!ended) return;
    if (ended.status === status) this.deps.publishSandbox({ type: "sandbox", sandboxId, status, error: ended.error });
    for (const run of cancelQueuedRunsOf(this.deps.db, sandboxId, `sandbox ${status}`)) this.deps.publishRun(toEndEvent(run));
    this.provisioningCancels.get(sandboxId)?.abort(new Error(`sandbox ${status}`));
    if (ended.containerId) await this.deps.engine.remove(ended.containerId).catch(() => {});
  }

  private async expireDue(): Promise<void> {
    for (const sandbox of dueSandboxes(this.deps.db, this.deps.workerId)) await this.remove(sandbox.id, "expired");
  }

  private async provision(sandbox: SandboxRow): Promise<void> {
    const { db, engine } = this.deps;
    let containerId: string | undefined;
    const cancel = new AbortController();
    this.provisioningCancels.set(sandbox.id, cancel);
    try {
      const requirements = JSON.parse(sandbox.requirements) as string[];
      const { image, cached } = await ensureRequirementsImage(engine, this.requirementsCache, {
        imagePrefix: this.deps.imagePrefix,
        runtime: sandbox.runtime,
        requirements,
        buildTimeoutMs: this.deps.requirements.buildTimeoutMs,
        pipIndexUrl: this.deps.requirements.pipIndexUrl,
        pipFileHosts: this.deps.requirements.pipFileHosts,
        npmRegistry: this.deps.requirements.npmRegistry,
      }, {
        sandboxId: sandbox.id,
        workerId: this.deps.workerId,
        instanceId: this.deps.instanceId,
        policy: this.deps.policy,
        containerRuntime: this.deps.containerRuntime,
        fetchDockerRuntime: this.deps.requirements.fetchDockerRuntime,
      }, cancel.signal);
      let model: { hostPath: string; name: string } | undefined;
      if (sandbox.model) {
        const hostPath = resolveModelPath(this.deps.modelsDir, sandbox.model);
        if (!hostPath) throw new Error(`model ${sandbox.model} is not in the model store`);
        model = { hostPath, name: sandbox.model };
      }
      const env = Object.entries(JSON.parse(sandbox.env) as Record<string, string>).map(([key, value]) => `${key}=${value}`);
      const spec = buildContainerSpec(
        {
          role: { sandbox: sandbox.id },
          workerId: this.deps.workerId,
          instanceId: this.deps.instanceId,
          image,
          memoryMb: sandbox.memoryMb,
          cpus: sandbox.cpus / 1000,
          model,
          containerRuntime: this.deps.containerRuntime,
        },
        { ...this.deps.policy, env: [...this.deps.policy.env, ...env] },
      );
      containerId = await engine.startDetached(spec);

      const files = JSON.parse(sandbox.files) as { path: string; content: string }[];
      if (sandbox.code) files.push({ path: SOURCE_FILE[sandbox.runtime], content: Buffer.from(sandbox.code).toString("base64") });
      for (const file of files) await this.writeFile(containerId, file.path, file.content);

      const ready = markSandboxReady(db, sandbox.id, containerId, cached);
      if (!ready) {
        // Deleted while it was being made.
        await engine.remove(containerId);
        return;
      }
      this.deps.publishSandbox({ type: "sandbox", sandboxId: sandbox.id, status: "ready", error: null });
    } catch (error) {
      const message = describeEngineError(error);
      console.error(`[worker] sandbox ${sandbox.id} failed to start:`, message.slice(0, 500));
      if (containerId) await engine.remove(containerId).catch(() => {});
      const failure = describeSandboxFailure(error, describeEngineError);
      const failed = endSandbox(db, sandbox.id, "error", failure.message, failure.kind);
      if (failed) this.deps.publishSandbox({ type: "sandbox", sandboxId: sandbox.id, status: "error", error: failed.error });
    } finally {
      this.provisioningCancels.delete(sandbox.id);
    }
  }

  /** Writes a file as the sandbox's own user, inside the sandbox, following no links: never a privileged write into its filesystem. */
  private async writeFile(containerId: string, relativePath: string, base64: string): Promise<void> {
    const result = await this.deps.engine.execCollect(
      containerId,
      { cmd: ["bash", "-c", uploadCommand(relativePath)], workingDir: "/sandbox" },
      base64,
    );
    if (result.exitCode !== 0) throw new Error(`could not write ${relativePath}: ${result.stderr.trim()}`);
  }
}
