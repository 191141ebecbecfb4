import type { Readable, Writable } from "node:stream";
import type { ContainerSpec } from "../container/container-spec";

/**
 * What the worker needs from a container engine, in engine-neutral terms: DockerEngine is the real one,
 * tests/support/fake-engine.ts an in-memory one for unit tests.
 */
export type StartedContainer = {
  id: string;
  /** Writable end of the container's stdin. */
  stdin: Writable;
  /** stdout and stderr multiplexed in frames (worker/container/frame-parser.ts). */
  output: Readable;
  /** Resolves with the exit code once the container stops. */
  exited: Promise<number>;
};

export type ContainerExit = { exitCode: number | null; oomKilled: boolean };

export type ManagedContainer = {
  id: string;
  runId: string | undefined;
  sandboxId: string | undefined;
  workerId: string | undefined;
  /** An idle warm container (or one taken from the pool by a run). */
  pooled: boolean;
  running: boolean;
};

export type ExecOptions = {
  cmd: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  /** stdout is bytes (a tar): only `stdoutBytes` carries it, `stdout` stays empty. */ binaryStdout?: boolean;
};

/** `overLimit`: the output passed `maxBytes`; what was kept is cut short and the read was stopped. */
export type ExecResult = {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  overLimit?: boolean;
  /** stdout as the bytes it was (a tar stream). */ stdoutBytes?: Buffer;
};

export type ImageBuild = {
  tag: string;
  labels: Record<string, string>;
  /** A folder sent as the build context, or `contextTar`: the context as a tar stream already made. */
  contextDir?: string;
  contextTar?: Buffer;
  /** The Dockerfile's path inside the context (default "Dockerfile"). */
  dockerfile?: string;
  networkMode: string;
  /** Aborting closes the build request: Docker cancels the build and removes its intermediate container. */
  signal?: AbortSignal;
};

export interface ContainerEngine {
  /** Creates and starts a long-lived container (a sandbox) without attaching to it. */
  startDetached(spec: ContainerSpec): Promise<string>;
  /** Starts a process in a running container with stdin/stdout/stderr attached. */
  exec(containerId: string, options: ExecOptions): Promise<StartedContainer>;
  /**
   * Runs a short process to completion, feeding it `input`, and collects at most `maxBytes` of its output.
   * Rejects when `signal` aborts first (the wait stops; the process itself must be bounded inside, e.g. by `timeout`).
   */
  execCollect(containerId: string, options: ExecOptions, input?: string | Buffer, maxBytes?: number, signal?: AbortSignal): Promise<ExecResult>;
  imageExists(tag: string): Promise<boolean>;
  /** Builds an image from in-memory files; resolves with the build log, rejects with it on failure. */
  buildImage(build: ImageBuild): Promise<string>;
  /** Images carrying `label` (any value), with their size and build time. */
  listLabelledImages(label: string): Promise<{ tag: string; sizeBytes: number; createdMs: number }[]>;
  /** Removes an image by tag; rejects while a container uses it. */
  removeImage(tag: string): Promise<void>;
  registeredRuntimes(): Promise<string[]>;
  /** Creates and starts a single-use container, its stdin and output attached before it starts. */
  start(spec: ContainerSpec): Promise<StartedContainer>;
  kill(id: string): Promise<void>;
  inspectExit(id: string): Promise<ContainerExit>;
  /** Whether a running container has hit its memory limit (a SIGKILLed child may have been OOM-killed). */
  memoryLimitReached(id: string): Promise<boolean>;
  remove(id: string): Promise<void>;
  listManaged(): Promise<ManagedContainer[]>;
  /** Ids of every running container, managed by Sandpit or not. */
  listRunningIds(): Promise<string[]>;
  ping(): Promise<void>;
  /**
   * Follows the engine's container events: kills Sandpit did not ask for (the engine shutting down,
   * an operator) are remembered for killedFromOutside; `onLost` is called whenever the engine goes away.
   */
  watch(onLost: () => void): void;
  killedFromOutside(id: string): boolean;
}
