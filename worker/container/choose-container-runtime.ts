import type { ContainerEngine } from "../engine/container-engine";

/** `auto` prefers gVisor where Docker has it registered; asking for runsc where it is not is an error. */
export async function chooseContainerRuntime(
  engine: ContainerEngine,
  wanted: "auto" | "runc" | "runsc",
  runscDockerRuntime = "runsc",
): Promise<"runc" | "runsc"> {
  const registered = await engine.registeredRuntimes();
  if (wanted === "runc") return "runc";
  if (registered.includes(runscDockerRuntime)) return "runsc";
  if (wanted === "runsc") throw new Error(`SANDBOX_RUNTIME=runsc needs Docker runtime ${runscDockerRuntime}, but Docker has only: ${registered.join(", ")}`);
  console.warn("[worker] gVisor (runsc) is not registered with Docker: sandboxes use runc");
  return "runc";
}
