import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { processAlive } from "@/lib/os/process-alive";

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
