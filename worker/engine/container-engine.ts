import type { Readable, Writable } from "node:stream";
import type Dockerode from "dockerode";

/** What the worker needs from a container engine; DockerEngine is the real one. */
export type StartedContainer = {
  id: string;
  /** Writable end of the container's stdin. */
  stdin: Writable;
  /** Docker's multiplexed stdout/stderr stream (8-byte frame headers). */
  output: Readable;
  /** Resolves with the exit code once the container stops. */
  exited: Promise<number>;
};

export type ContainerExit = { exitCode: number | null; oomKilled: boolean };

export type ManagedContainer = { id: string; runId: string | undefined; workerId: string | undefined; running: boolean };

export interface ContainerEngine {
  registeredRuntimes(): Promise<string[]>;
  start(spec: Dockerode.ContainerCreateOptions): Promise<StartedContainer>;
  kill(id: string): Promise<void>;
  inspectExit(id: string): Promise<ContainerExit>;
  remove(id: string): Promise<void>;
  listManaged(): Promise<ManagedContainer[]>;
  /** Ids of every running container, managed by Sandpit or not. */
  listRunningIds(): Promise<string[]>;
  ping(): Promise<void>;
}
