import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAttackStack, stopAttackStack, underAttack, type AttackStack } from "../support/attack-stack";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";

/**
 * The sandbox files API against names and symlinks a hostile sandbox controls: the worker must never follow
 * a path the sandbox made. Under both container runtimes; see docs/security.md for the table.
 */
const root = path.resolve(import.meta.dirname, "../..");

function createToken(dataDir: string): string {
  const output = execFileSync(process.execPath, ["--import", "tsx", "scripts/token.ts", "create", "attacker"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", NODE_ENV: "production", DATA_DIR: dataDir },
    encoding: "utf8",
  });
  return output.trim().split("\n").at(-1)!;
}

describe.each(CONTAINER_RUNTIMES)("sandbox files against a hostile sandbox under %s", (containerRuntime) => {
  let attack: AttackStack;
  let token: string;
  let hostDir: string;
  let marker: { path: string; secret: string };

  const api = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${attack.stack.baseUrl}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as any };
  };
  const b64 = (text: string) => Buffer.from(text).toString("base64");

  beforeAll(async () => {
    hostDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-host-marker-"));
    marker = { path: path.join(hostDir, "marker.txt"), secret: `host-secret-${randomBytes(8).toString("hex")}` };
    writeFileSync(marker.path, marker.secret);
    attack = await startAttackStack(containerRuntime);
    token = createToken(attack.stack.dataDir);
  }, 120_000);
  afterAll(async () => {
    await stopAttackStack(attack);
    rmSync(hostDir, { recursive: true, force: true });
  });

  it("refuses traversal, absolute, NUL, control and bidi names, at create and on upload and download", async () => {
    await underAttack(attack, async () => {
      const bad = [
        "../escape",
        "a/../../escape",
        "/etc/escape",
        "~/escape",
        "./x",
        "a//b",
        "nul\u0000byte",
        "new\nline",
        "esc\u001b[31m",
        "c1\u0085",
        "\u202egnp.exe",
        "rtl\u2067x",
        "line\u2028sep",
      ];
      for (const name of bad) {
        const created = await api("POST", "/sandboxes", { runtime: "bash", code: "echo never", files: [{ path: name, content: b64("x") }] });
        expect(created.status, `create with ${JSON.stringify(name)}`).toBe(400);
        expect(created.json.error).toMatch(/file paths must be relative/);
      }
      // A glob, not ls: ls uses statx, which this gVisor version lacks.
      const sandbox = await api("POST", "/sandboxes", { runtime: "bash", code: "shopt -s nullglob dotglob; printf '%s\\n' /sandbox/*", timeout: 120 });
      expect(sandbox.status, JSON.stringify(sandbox.json)).toBe(201);
      try {
        for (const name of bad) {
          const upload = await api("POST", `/sandboxes/${sandbox.json.id}/files`, { path: name, content: b64("x") });
          expect(upload.status, `upload to ${JSON.stringify(name)}`).toBe(400);
          expect(upload.json.error).toMatch(/\S/);
          const download = await api("GET", `/sandboxes/${sandbox.json.id}/files?path=${encodeURIComponent(name)}`);
          expect(download.status, `download of ${JSON.stringify(name)}`).toBe(400);
        }
        const listing = await api("POST", `/sandboxes/${sandbox.json.id}/runs?wait=1`, {});
        expect(listing.json.stdout, JSON.stringify(listing.json)).toBe("/sandbox/main.sh\n");
      } finally {
        await api("DELETE", `/sandboxes/${sandbox.json.id}`);
      }
    });
  });

  it("never follows a symlink the sandbox planted, for upload or download", async () => {
    await underAttack(attack, async () => {
      const sandbox = await api("POST", "/sandboxes", { runtime: "bash", code: "echo ready", timeout: 120 });
      expect(sandbox.status, JSON.stringify(sandbox.json)).toBe(201);
      const id = sandbox.json.id;
      try {
        const plant = await api("POST", `/sandboxes/${id}/runs?wait=1`, {
          command: [
            "ln -s /etc/passwd passwd-link",
            "ln -s /etc etc-link",
            "ln -s / root-link",
            "ln -s /proc/1/root/etc proc-root-link",
            `ln -s ${marker.path} host-marker-link`,
            "ln -s /tmp tmp-link",
            "mkfifo fifo",
            "mkdir -p real/dir && echo own-data > real/dir/file.txt",
            "ln -s real/dir/file.txt inside-link",
            "echo planted",
          ].join(" && "),
        });
        expect(plant.json.stdout, JSON.stringify(plant.json)).toBe("planted\n");

        // Downloads: a link (even one pointing inside /sandbox) or a FIFO is refused, never read through.
        for (const name of ["passwd-link", "etc-link/passwd", "root-link/etc/shadow", "proc-root-link/hostname", "host-marker-link", "inside-link", "fifo"]) {
          const download = await api("GET", `/sandboxes/${id}/files?path=${encodeURIComponent(name)}`);
          expect(download.status, `download of ${name}: ${JSON.stringify(download.json)}`).toBe(409);
          expect(download.json.error).toMatch(/refused: .* (is a symbolic link|is not a regular file)/);
          expect(JSON.stringify(download.json)).not.toContain(marker.secret);
          expect(JSON.stringify(download.json)).not.toContain("root:x:0:0");
        }
        const missing = await api("GET", `/sandboxes/${id}/files?path=nothing-here`);
        expect(missing.status).toBe(404);
        const own = await api("GET", `/sandboxes/${id}/files?path=real/dir/file.txt`);
        expect(own.status, JSON.stringify(own.json)).toBe(200);
        expect(Buffer.from(own.json.content, "base64").toString()).toBe("own-data\n");

        // Uploads: through a link to a file, a directory, the root, /proc/1/root, /tmp, or into a FIFO.
        const evil = `evil-${randomBytes(4).toString("hex")}`;
        for (const name of [
          "passwd-link",
          `etc-link/${evil}`,
          `root-link/tmp/${evil}`,
          `proc-root-link/${evil}`,
          "host-marker-link",
          `tmp-link/${evil}`,
          "fifo",
          "inside-link",
        ]) {
          const upload = await api("POST", `/sandboxes/${id}/files`, { path: name, content: b64(`written-by-upload ${evil}`) });
          expect(upload.status, `upload to ${name}: ${JSON.stringify(upload.json)}`).toBe(409);
          expect(upload.json.error).toMatch(/refused: .* (is a symbolic link|is not a regular file)/);
        }
        // Nothing was written anywhere: not on the host, not through the links inside the sandbox.
        expect(readFileSync(marker.path, "utf8")).toBe(marker.secret);
        expect(existsSync(`/etc/${evil}`)).toBe(false);
        expect(existsSync(`/tmp/${evil}`)).toBe(false);
        const check = await api("POST", `/sandboxes/${id}/runs?wait=1`, {
          command: `grep -rl ${evil} /etc /tmp /sandbox 2>/dev/null; head -c 4 /etc/passwd; echo; cat real/dir/file.txt`,
        });
        expect(check.json.stdout, JSON.stringify(check.json)).toBe("root\nown-data\n");

        // A normal upload into a new directory, and back.
        const upload = await api("POST", `/sandboxes/${id}/files`, { path: "data/new/input.txt", content: b64("hello\n") });
        expect(upload.status, JSON.stringify(upload.json)).toBe(201);
        expect(upload.json).toEqual({ path: "data/new/input.txt", size: 6 });
        const back = await api("GET", `/sandboxes/${id}/files?path=data/new/input.txt`);
        expect(back.json).toEqual({ path: "data/new/input.txt", size: 6, content: b64("hello\n") });
      } finally {
        await api("DELETE", `/sandboxes/${id}`);
      }
    });
  });
});
