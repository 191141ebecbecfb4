import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { processAlive } from "@/lib/os/process-alive";
import { SANDBOX_UID } from "../container/hardening-policy";

/**
 * A fresh host folder for a Unix socket that a container reaches through a bind mount (the requirements fetch
 * step's registry proxy, a nested sandbox's API channel), named `<prefix><worker pid>-<random>`. Folders of the
 * same kind left by workers that died (SIGKILL, a crash: nothing else removes them) go first.
 */
export function makeHostSocketDir(prefix: string): string {
  removeDeadWorkersDirs(prefix);
  return mkdtempSync(path.join(os.tmpdir(), `${prefix}${process.pid}-`));
}

function removeDeadWorkersDirs(prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * Listens on `socketPath` inside `hostDir` (from makeHostSocketDir), for the sandbox user alone; close() ends the
 * open connections (`sockets`, kept by the server's owner) and removes the folder.
 */
export async function serveOnHostSocket(
  server: net.Server,
  hostDir: string,
  socketPath: string,
  sockets: Set<net.Socket>,
): Promise<{ hostDir: string; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  // Only the sandbox user (uid 1000 in the container) may use the socket; nobody else on the host can.
  chownSync(hostDir, SANDBOX_UID, SANDBOX_UID);
  chmodSync(hostDir, 0o700);
  chownSync(socketPath, SANDBOX_UID, SANDBOX_UID);
  chmodSync(socketPath, 0o600);
  return {
    hostDir,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(hostDir, { recursive: true, force: true });
    },
  };
}
