import { EventEmitter } from "node:events";
import type { RunEndEvent, SandboxEvent, WorkerCommand } from "./events";

/**
 * In-process link between the Next.js bundle (route handlers, server actions) and the custom server
 * that owns Socket.IO. They load separate module instances, so the bus lives on globalThis.
 */
export type WebBus = {
  /** Sends a command to every connected worker. */
  commandWorkers(command: WorkerCommand): void;
  /** Fires "end" with a RunEndEvent when a run finishes, "sandbox" with a SandboxEvent when a sandbox changes. */
  runEnds: EventEmitter;
};

const globalKey = Symbol.for("sandpit.webBus");
type GlobalWithBus = typeof globalThis & { [globalKey]?: WebBus };

export function webBus(): WebBus {
  const holder = globalThis as GlobalWithBus;
  if (!holder[globalKey]) {
    const runEnds = new EventEmitter();
    runEnds.setMaxListeners(0);
    // Without the custom server (e.g. `next dev`) nobody is listening; the worker's fallback poll still finds the run.
    holder[globalKey] = { commandWorkers: () => {}, runEnds };
  }
  return holder[globalKey];
}

export function installWorkerCommander(commandWorkers: WebBus["commandWorkers"]): void {
  webBus().commandWorkers = commandWorkers;
}

export function announceRunEnd(event: RunEndEvent): void {
  webBus().runEnds.emit("end", event);
}

export function announceSandboxChange(event: SandboxEvent): void {
  webBus().runEnds.emit("sandbox", event);
}
