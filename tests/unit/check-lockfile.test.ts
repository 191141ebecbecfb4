import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RequirementsRejected } from "@/lib/requirements/requirements-errors";
import { checkLockfile } from "@/worker/sandboxes/requirements-image";

const REGISTRY = "https://registry.npmjs.org/";
const dir = mkdtempSync(path.join(os.tmpdir(), "sandpit-lock-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lockWith(packages: Record<string, unknown>): string {
  const file = path.join(dir, `lock-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ lockfileVersion: 3, packages: { "": { name: "x" }, ...packages } }));
  return file;
}

const good = { resolved: `${REGISTRY}is-number/-/is-number-7.0.0.tgz`, integrity: "sha512-abc" };

describe("checkLockfile", () => {
  it("accepts registry tarballs with integrity, at any depth", () => {
    expect(() => checkLockfile(lockWith({ "node_modules/is-number": good, "node_modules/a/node_modules/b": good }), REGISTRY)).not.toThrow();
  });

  it.each([
    ["a git dependency", { resolved: "git+ssh://git@github.com/attacker/evil.git#abc", integrity: "sha512-x" }],
    ["a file dependency", { resolved: "file:/etc", integrity: "sha512-x" }],
    ["a link", { resolved: "../evil", link: true }],
    ["another host", { resolved: "https://registry.npmjs.org.evil.example/x.tgz", integrity: "sha512-x" }],
    ["no integrity", { resolved: `${REGISTRY}x/-/x-1.0.0.tgz` }],
    ["no resolved URL", { integrity: "sha512-x" }],
  ])("refuses %s, naming the package", (_, entry) => {
    const file = lockWith({ "node_modules/is-number": good, "node_modules/parent/node_modules/evil-dep": entry });
    expect(() => checkLockfile(file, REGISTRY)).toThrow(RequirementsRejected);
    expect(() => checkLockfile(file, REGISTRY)).toThrow(/"evil-dep"/);
  });
});
