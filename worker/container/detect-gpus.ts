import { readdirSync } from "node:fs";
import type { ContainerEngine } from "../engine/container-engine";

/** GPUs this worker can hand to containers: NVIDIA device nodes, and the nvidia runtime registered with Docker. */
export async function detectGpus(engine: ContainerEngine): Promise<number> {
  let devices: string[];
  try {
    devices = readdirSync("/dev").filter((name) => /^nvidia\d+$/.test(name));
  } catch {
    return 0;
  }
  if (!devices.length) return 0;
  return (await engine.registeredRuntimes()).includes("nvidia") ? devices.length : 0;
}
