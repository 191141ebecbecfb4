import { EventEmitter } from "node:events";
import { processSingleton } from "@/lib/os/process-singleton";
import type { RunEndEvent, SandboxEvent, WorkerCommand } from "./events";

/**
 * In-process link between the Next.js bundle (route handlers, server actions) and the custom server
 * that owns Socket.IO. They load separate module instances, so the bus is a process singleton.
 */
export type WebBus = {
  /** Sends a command to every connected worker. */
  commandWorkers(command: WorkerCommand): void;
  /** Fires "end" with a RunEndEvent when a run finishes, "sandbox" with a SandboxEvent when a sandbox changes. */
  runEnds: EventEmitter;
};

export function webBus(): WebBus {
  return processSingleton("webBus", () => {
    const runEnds = new EventEmitter();
    runEnds.setMaxListeners(0);
    // Without the custom server (e.g. `next dev`) nobody is listening; the worker's fallback poll still finds the run.
    return { commandWorkers: () => {}, runEnds };
  });
}

export function installWorkerCommander(commandWorkers: WebBus["commandWorkers"]): void {
  webBus().commandWorkers = commandWorkers;
}

/** Tells the workers there is new work (a queued run or sandbox): the one place that sends the wake-up. */
export function wakeWorkers(): void {
  webBus().commandWorkers({ type: "wake" });
}

export function announceRunEnd(event: RunEndEvent): void {
  webBus().runEnds.emit("end", event);
}

export function announceSandboxChange(event: SandboxEvent): void {
  webBus().runEnds.emit("sandbox", event);
}
