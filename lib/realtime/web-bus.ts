import { EventEmitter } from "node:events";
import { processSingleton } from "@/lib/os/process-singleton";
import type { BusAnnouncement, RunEndEvent, SandboxEvent, WorkerCommand } from "./events";

/**
 * In-process link between the Next.js bundle (route handlers, server actions) and the custom server
 * that owns Socket.IO. They load separate module instances, so the bus is a process singleton.
 */
export type WebBus = {
  /** Sends a command to every worker (see senders). */
  commandWorkers(command: WorkerCommand): void;
  /** Fires "end" with a RunEndEvent when a run finishes, "sandbox" with a SandboxEvent when a sandbox changes. */
  runEnds: EventEmitter;
  /** Passes an announcement to the other web servers; installed by attachSocketServer when there are several. */
  tellPeers(announcement: BusAnnouncement): void;
  /**
   * How commands reach the workers: over Socket.IO to those linked to this server (with the Redis adapter, to
   * every web server's; the custom server installs it), or in PostgreSQL mode by NOTIFY to every worker on every
   * host, Socket.IO only when NOTIFY fails.
   */
  senders: { socket: (command: WorkerCommand) => void; notify?: (command: WorkerCommand) => Promise<void> };
};

export function webBus(): WebBus {
  return processSingleton("webBus", () => {
    const runEnds = new EventEmitter();
    runEnds.setMaxListeners(0);
    // Without the custom server (e.g. `next dev`) nobody is listening; the worker's fallback poll still finds the run.
    const bus: WebBus = {
      senders: { socket: () => {} },
      commandWorkers: (command) => {
        const { socket, notify } = bus.senders;
        if (!notify) return socket(command);
        notify(command).catch((error: unknown) => {
          console.error("[web] NOTIFY to the workers failed, sending over Socket.IO:", (error as Error).message);
          socket(command);
        });
      },
      runEnds,
      tellPeers: () => {},
    };
    return bus;
  });
}

export function installWorkerCommander(send: WebBus["senders"]["socket"]): void {
  webBus().senders.socket = send;
}

/** PostgreSQL mode: commands go to every worker through the database (lib/realtime/postgres-worker-commands.ts). */
export function installWorkerNotifier(notify: NonNullable<WebBus["senders"]["notify"]>): void {
  webBus().senders.notify = notify;
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
