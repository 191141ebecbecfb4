import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd } from "../support/api-client";
import { startStack, WEB_USER, type Stack } from "../support/stack";

/** Least privilege (issue 11): the web process is not root, cannot reach Docker, and DATA_DIR is private. */
describe("least privilege", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ containerRuntime: "runc" });
  }, 120_000);
  afterAll(async () => stack?.stop());

  it("runs the web process as the unprivileged web user, outside the docker group", () => {
    const status = readFileSync(`/proc/${stack.webPid()}/status`, "utf8");
    const field = (name: string) =>
      status
        .match(new RegExp(`^${name}:\\s*(.*)$`, "m"))![1]
        .trim()
        .split(/\s+/)
        .map(Number);
    const webUid = Number(execFileSync("id", ["-u", WEB_USER], { encoding: "utf8" }).trim());
    expect(field("Uid")).toEqual([webUid, webUid, webUid, webUid]);
    expect(webUid).not.toBe(0);
    expect(field("Gid")[0]).not.toBe(0);
    const dockerGid = Number(execFileSync("getent", ["group", "docker"], { encoding: "utf8" }).split(":")[2]);
    expect(field("Groups").filter((group) => !Number.isNaN(group))).not.toContain(dockerGid);
    expect(field("CapEff")).toEqual([0]);
  });

  it("the web user cannot open the Docker socket (EACCES), while root can", () => {
    const probe =
      'require("net").connect("/var/run/docker.sock").on("connect", () => { console.log("CONNECTED"); process.exit(0) }).on("error", (e) => { console.log(e.code); process.exit(0) })';
    const asWeb = spawnSync("setpriv", [`--reuid=${WEB_USER}`, `--regid=${WEB_USER}`, "--init-groups", "--", process.execPath, "-e", probe], {
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(asWeb.stdout.trim(), asWeb.stderr).toBe("EACCES");
    const asRoot = spawnSync(process.execPath, ["-e", probe], { encoding: "utf8", timeout: 10_000 });
    expect(asRoot.stdout.trim()).toBe("CONNECTED");
  });

  it("serves runs through the shared database, and keeps DATA_DIR 0700 with files 0600 owned by the web user", async () => {
    const run = await runToEnd(stack.baseUrl, { runtime: "bash", code: "echo shared db ok" });
    expect(run).toMatchObject({ status: "succeeded", stdout: "shared db ok\n" });
    const webUid = Number(execFileSync("id", ["-u", WEB_USER], { encoding: "utf8" }).trim());
    const seen: string[] = [];
    const walk = (dir: string) => {
      const info = statSync(dir);
      expect([dir, info.mode & 0o777, info.uid]).toEqual([dir, 0o700, webUid]);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else {
          const file = statSync(full);
          expect([full, file.mode & 0o777, file.uid]).toEqual([full, 0o600, webUid]);
          seen.push(entry.name);
        }
      }
    };
    walk(stack.dataDir);
    expect(seen).toEqual(expect.arrayContaining(["sandpit.db", "sandpit.db-wal", "sandpit.db-shm", "worker.secret"]));
  }, 60_000);
});
