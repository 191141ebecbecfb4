import type Dockerode from "dockerode";

/**
 * `docker run --rm` flags equal to the Docker create options the worker sends (toDockerCreateOptions in
 * worker/engine/docker-engine.ts), so the baseline runs with exactly the hardening our own containers get.
 */
export function dockerRunArgs(spec: Dockerode.ContainerCreateOptions, command: string[]): string[] {
  const host = spec.HostConfig!;
  const args = ["run", "--rm", "--runtime", host.Runtime!, "--network", host.NetworkMode!, "--user", spec.User!, "--workdir", spec.WorkingDir!];
  if (host.ReadonlyRootfs) args.push("--read-only");
  for (const cap of host.CapDrop ?? []) args.push("--cap-drop", cap);
  for (const option of host.SecurityOpt ?? []) args.push("--security-opt", option);
  args.push("--pids-limit", String(host.PidsLimit), "--memory", `${host.Memory}b`, "--memory-swap", `${host.MemorySwap}b`);
  args.push("--cpus", String(host.NanoCpus! / 1e9));
  for (const [path, options] of Object.entries(host.Tmpfs ?? {})) args.push("--tmpfs", `${path}:${options}`);
  for (const limit of host.Ulimits ?? []) args.push("--ulimit", `${limit.Name}=${limit.Soft}:${limit.Hard}`);
  args.push("--oom-score-adj", String(host.OomScoreAdj), "--ipc", host.IpcMode!, "--shm-size", `${host.ShmSize}b`);
  args.push("--log-driver", host.LogConfig!.Type!);
  for (const variable of spec.Env ?? []) args.push("--env", variable);
  args.push(spec.Image!, ...command);
  return args;
}
