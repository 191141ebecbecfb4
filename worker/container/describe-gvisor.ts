import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Which gVisor build and platform the `runsc` runtime registered with Docker runs. */
export type GvisorBuild = { path: string; version: string; platform: string };

/** A Docker runtime as `docker info` lists it. */
export type RegisteredRuntime = { path?: string; runtimeArgs?: string[] | null };

/** `runsc version release-20260905.0` → `release-20260905.0`; Debian's `runsc version 0.0~20221219.0` likewise. */
export function parseRunscVersion(output: string): string | undefined {
  return /^runsc version (\S{1,100})/m.exec(output.slice(0, 4096))?.[1];
}

/** The platform a runtime entry selects: its `--platform` flag, else the binary's default (from `runsc flags`). */
export function runscPlatform(runtimeArgs: readonly string[], flagsOutput: string): string {
  for (const arg of runtimeArgs) {
    const match = /^--?platform=(\S+)$/.exec(arg);
    if (match) return match[1];
  }
  // `-platform string\n\t  specifies which platform to use: ptrace (default), kvm. (default "ptrace")`
  const flag = flagsOutput.indexOf("-platform string");
  if (flag < 0) return "unknown";
  return /\(default "([a-z0-9_-]{1,32})"\)/.exec(flagsOutput.slice(flag, flag + 600))?.[1] ?? "unknown";
}

/**
 * Asks the registered binary itself (the worker runs beside dockerd, on the same host). A path the worker
 * cannot run (a remote engine) reports version "unknown" rather than failing the worker.
 */
export async function describeGvisor(runtime: RegisteredRuntime): Promise<GvisorBuild> {
  const path = runtime.path ?? "runsc";
  const args = runtime.runtimeArgs ?? [];
  const [version, flags] = await Promise.all([
    run(path, ["--version"], { timeout: 5000, maxBuffer: 64 * 1024 }).then(
      (out) => parseRunscVersion(out.stdout) ?? "unknown",
      () => "unknown",
    ),
    run(path, ["flags"], { timeout: 5000, maxBuffer: 1024 * 1024 }).then(
      (out) => out.stdout + out.stderr,
      () => "",
    ),
  ]);
  return { path, version, platform: runscPlatform(args, flags) };
}
