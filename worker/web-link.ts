import { io, type Socket } from "socket.io-client";
import { CHANNELS, WORKER_NAMESPACE, workerCommandSchema, type RunEvent, type SandboxEvent, type WorkerCommand } from "@/lib/realtime/events";

/**
 * The worker's connection to the web server: run events go up (the server relays them to browsers),
 * commands come down (wake up, cancel). Socket.IO buffers events while reconnecting; browsers that
 * miss some replay them from the database.
 */
export class WebLink {
  private readonly socket: Socket;

  constructor(webUrl: string, secret: string, onCommand: (command: WorkerCommand) => void) {
    this.socket = io(webUrl + WORKER_NAMESPACE, {
      auth: { secret },
      transports: ["websocket"],
      reconnectionDelay: 200,
      reconnectionDelayMax: 2000,
    });
    this.socket.on(CHANNELS.workerCommand, (payload: unknown) => {
      const parsed = workerCommandSchema.safeParse(payload);
      if (parsed.success) onCommand(parsed.data);
    });
    this.socket.on("connect", () => onCommand({ type: "wake" }));
    this.socket.on("connect_error", (error) => {
      if (error.message === "unauthorized") console.error("[worker] web server refused WORKER_SECRET");
    });
  }

  publish(event: RunEvent): void {
    this.socket.emit(CHANNELS.runEvent, event);
  }

  publishSandbox(event: SandboxEvent): void {
    this.socket.emit(CHANNELS.sandboxEvent, event);
  }

  close(): void {
    this.socket.close();
  }
}
