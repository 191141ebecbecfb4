import { EventEmitter } from "node:events";
import { processSingleton } from "@/lib/os/process-singleton";
import type { BusAnnouncement, RunEndEvent, SandboxEvent, WorkerCommand } from "./events";

/**
 * In-process link between the Next.js bundle (route handlers, server actions) and the custom server
 * that owns Socket.IO. They load separate module instances, so the bus is a process singleton.
 */
export type WebBus = {
  /** Sends a command to every connected worker (on every web server, when there are several). */
  commandWorkers(command: WorkerCommand): void;
  /** Fires "end" with a RunEndEvent when a run finishes, "sandbox" with a SandboxEvent when a sandbox changes. */
  runEnds: EventEmitter;
  /** Passes an announcement to the other web servers; installed by attachSocketServer when there are several. */
  tellPeers(announcement: BusAnnouncement): void;
};

export function webBus(): WebBus {
  return processSingleton("webBus", () => {
    const runEnds = new EventEmitter();
    runEnds.setMaxListeners(0);
    // Without the custom server (e.g. `next dev`) nobody is listening; the worker's fallback poll still finds the run.
    return { commandWorkers: () => {}, runEnds, tellPeers: () => {} };
  });
}

export function installWorkerCommander(commandWorkers: WebBus["commandWorkers"]): void {
  webBus().commandWorkers = commandWorkers;
}

export function installPeerLink(tellPeers: WebBus["tellPeers"]): void {
  webBus().tellPeers = tellPeers;
}

/** Tells the workers there is new work (a queued run or sandbox): the one place that sends the wake-up. */
export function wakeWorkers(): void {
  webBus().commandWorkers({ type: "wake" });
}

/** Fires this process's listeners and tells the other web servers, whose listeners fire once each (hearFromPeer). */
function announce(announcement: BusAnnouncement): void {
  const bus = webBus();
  bus.runEnds.emit(announcement.event, announcement.payload);
  bus.tellPeers(announcement);
}

export function announceRunEnd(event: RunEndEvent): void {
  announce({ event: "end", payload: event });
}

export function announceSandboxChange(event: SandboxEvent): void {
  announce({ event: "sandbox", payload: event });
}

/** Another web server's announcement: for this process's listeners only, never passed on again. */
export function hearFromPeer(announcement: BusAnnouncement): void {
  webBus().runEnds.emit(announcement.event, announcement.payload);
}
