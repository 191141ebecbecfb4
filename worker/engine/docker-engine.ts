import Dockerode from "dockerode";
import type { Duplex } from "node:stream";
import { LABELS } from "../sandbox/build-container-spec";
import type { ContainerEngine, ContainerExit, ManagedContainer, StartedContainer } from "./container-engine";

const isNotFound = (error: unknown) => (error as { statusCode?: number })?.statusCode === 404;
const isAlreadyStopped = (error: unknown) => [304, 404, 409].includes((error as { statusCode?: number })?.statusCode ?? 0);

/** The Docker Engine API, through dockerode. The only module that talks to Docker. */
export class DockerEngine implements ContainerEngine {
  private readonly docker: Dockerode;

  constructor(
    socketPath: string,
    private readonly instanceId: string,
  ) {
    this.docker = new Dockerode({ socketPath });
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async registeredRuntimes(): Promise<string[]> {
    const info = (await this.docker.info()) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {});
  }

  async start(spec: Dockerode.ContainerCreateOptions): Promise<StartedContainer> {
    const container = await this.docker.createContainer(spec);
    try {
      // Attach before start so not a byte of early output is lost.
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
      const exited = container.wait().then((result: { StatusCode: number }) => result.StatusCode);
      exited.catch(() => {});
      await container.start();
      return { id: container.id, stdin: stream, output: stream, exited };
    } catch (error) {
      await this.remove(container.id).catch(() => {});
      throw error;
    }
  }

  async kill(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal: "SIGKILL" });
    } catch (error) {
      if (!isAlreadyStopped(error)) throw error;
    }
  }

  async inspectExit(id: string): Promise<ContainerExit> {
    const info = await this.docker.getContainer(id).inspect();
    return { exitCode: info.State.ExitCode ?? null, oomKilled: Boolean(info.State.OOMKilled) };
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      if (!isNotFound(error) && (error as { statusCode?: number }).statusCode !== 409) throw error;
    }
  }

  async listManaged(): Promise<ManagedContainer[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`, `${LABELS.instance}=${this.instanceId}`] } });
    return containers.map((container) => ({
      id: container.Id,
      runId: container.Labels[LABELS.run],
      workerId: container.Labels[LABELS.worker],
      running: container.State === "running",
    }));
  }

  async listRunningIds(): Promise<string[]> {
    return (await this.docker.listContainers()).map((container) => container.Id);
  }
}
