import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runtimeCatalog } from "@/lib/runtimes/catalog";

/**
 * Adding a runtime means adding images/<name>/ and nothing else (docs/architecture.md, "Runtimes as data"). So no
 * source file outside a runtime's folder may name a runtime in code: a list of names, a `switch` on one, a lookup
 * table keyed by them, an image tag. Every such spot is a decision the catalog (lib/runtimes/catalog.ts, reading
 * images/<name>/runtime.json) should make instead. This test reads every file git tracks (or would track) and
 * lists each offending line, so a failure says exactly what to move into the catalog.
 */

const ROOT = process.cwd();
const { runtimes } = runtimeCatalog();
/** Names the API accepts: runtime names and their aliases (bash: shell). */
const NAMES = runtimes.flatMap((runtime) => [runtime.name, ...runtime.aliases]);

/**
 * Files that may name runtimes, and why. Everything else is scanned.
 * - a runtime's own folder: it *is* the runtime;
 * - prose (Markdown) and data (JSON: lockfiles, package manifests, schema snapshots, benchmark results): no decision
 *   is made there (README and docs list the runtimes for readers; keeping them current is documentation work);
 * - tests: each exercises concrete runtimes whose behaviour it checks (a Python OOM, a Deno permission); a new
 *   runtime leaves them true. Tests meant for every runtime iterate over the catalog (tests/integration/runs-api.test.ts);
 * - the SDKs: separately installed packages with their own typed runtime lists (issue 13's "one contract" work
 *   generates them from the server's schemas); examples: programs written for one language;
 * - the benchmark: it measures chosen runtimes (its timed programs are Python, its bare-host baselines find each
 *   interpreter on the host); a new runtime is benchmarked through the catalog's `hello`, without a host baseline.
 */
const EXCLUDED: { test: (file: string) => boolean; why: string }[] = [
  { test: (file) => runtimes.some((runtime) => file.startsWith(`images/${runtime.name}/`)), why: "the runtime's own folder" },
  { test: (file) => /\.(md|json)$/.test(file), why: "prose and data" },
  { test: (file) => file.startsWith("tests/") || file.startsWith("sdk/js/tests/") || file.startsWith("sdk/python/tests/"), why: "tests of concrete runtimes" },
  { test: (file) => file.startsWith("sdk/") || file.startsWith("examples/"), why: "separate packages and examples" },
  { test: (file) => file.startsWith("bench/"), why: "measurements of chosen runtimes" },
];

const SCRIPT_EXTENSIONS = /\.(ts|tsx|mts|cts|js|mjs|cjs|py|sh)$/;

function sourceFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
  return listed
    .split("\0")
    .filter(Boolean)
    .filter((file) => {
      if (SCRIPT_EXTENSIONS.test(file)) return true;
      // Extensionless scripts (.ci/run, images/base/invoke) by their shebang.
      if (path.basename(file).includes(".")) return false;
      try {
        return readFileSync(path.join(ROOT, file), "utf8").startsWith("#!");
      } catch {
        return false; // listed but deleted in the working tree
      }
    });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const alternatives = NAMES.map(escape).join("|");
/** A whole-word name: not part of a longer identifier, path or flag (python3, node_modules, /bin/bash, --node). */
const word = `(?<![\\w./-])(?:${alternatives})(?![\\w/-])`;

/** The shapes a runtime name takes in code, with the program-name case let through (see below). */
const CODE_PATTERNS: { pattern: RegExp; shape: string }[] = [
  // "deno", 'python', `go` — except as the program of an argv (["bash", "-c", …], ["node", "-e", …]): that names
  // an executable inside a container (every image has bash from images/base; the npm installer needs node), not a runtime.
  { pattern: new RegExp(`(["'\`])(?:${alternatives})\\1(?!\\s*,\\s*["'\`]-)`), shape: "string literal" },
  // { python: …, node: … } or a key on its own line
  { pattern: new RegExp(`(?:^|[{,])\\s*(?:${alternatives})\\s*:(?!:)`), shape: "object key" },
  // RUNTIMES.python
  { pattern: new RegExp(`\\w\\.(?:${alternatives})\\b(?![\\w(])`), shape: "property access" },
  // sandpit/python: an image tag
  { pattern: new RegExp(`(?<![\\w/])sandpit/(?:${alternatives})(?![\\w-])`), shape: "image tag" },
];
/** Shell also names things unquoted: arrays and case patterns. */
const SHELL_PATTERNS: { pattern: RegExp; shape: string }[] = [
  { pattern: new RegExp(`=\\([^)]*${word}`), shape: "shell array" },
  { pattern: new RegExp(`^\\s*(?:[\\w|-]+\\|)?${word}(?:\\|[\\w|-]+)*\\)`), shape: "case pattern" },
];

function offendingLines(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const shell = file.endsWith(".sh") || /^#!.*\b(ba)?sh\b/.test(text);
  const patterns = shell ? [...CODE_PATTERNS, ...SHELL_PATTERNS] : CODE_PATTERNS;
  const found: string[] = [];
  text.split("\n").forEach((line, index) => {
    // Shell and Python comments are prose; a JS/TS comment is checked like code (a quoted name there is a list too).
    if ((shell || file.endsWith(".py")) && /^\s*#/.test(line)) return;
    for (const { pattern, shape } of patterns) {
      if (pattern.test(line)) found.push(`${file}:${index + 1} (${shape}): ${line.trim().slice(0, 160)}`);
    }
  });
  return found;
}

describe("runtime names in source files", () => {
  const files = sourceFiles();

  it("scans the code that decides things about runtimes", () => {
    // Guards against a test that passes because it reads nothing: the catalog, the request schemas, the worker's
    // launchers and the image builder are all read, and the patterns find names in a file that has them.
    const scanned = files.filter((file) => !EXCLUDED.some((exclusion) => exclusion.test(file)));
    for (const file of ["lib/runtimes/catalog.ts", "lib/sandboxes/sandbox-request-schema.ts", "worker/execution/launchers.ts", "scripts/build-images.sh"]) {
      expect(scanned).toContain(file);
    }
    expect(NAMES.length).toBeGreaterThanOrEqual(runtimes.length);
    const sample = runtimes[0].name;
    const hits = (line: string, shell = false) => (shell ? [...CODE_PATTERNS, ...SHELL_PATTERNS] : CODE_PATTERNS).some(({ pattern }) => pattern.test(line));
    expect(hits(`const x = "${sample}";`)).toBe(true);
    expect(hits(`const files = { ${sample}: "main.x" };`)).toBe(true);
    expect(hits(`RUNTIMES.${sample}.starter`)).toBe(true);
    expect(hits(`image: "sandpit/${sample}:latest"`)).toBe(true);
    expect(hits(`ORDER=(base ${sample} other)`, true)).toBe(true);
    expect(hits(`    ${sample}) printf hello ;;`, true)).toBe(true);
    expect(hits(`cmd: ["${sample}", "-c", script]`)).toBe(false);
    expect(hits(`import fs from "node:fs"; const p = "${sample}3";`)).toBe(false);
    expect(hits(`export GOPATH=/var/lib/sandpit/${sample}`, true)).toBe(false);
  });

  it("finds no runtime name outside the runtimes' own folders", () => {
    const offending = files.filter((file) => !EXCLUDED.some((exclusion) => exclusion.test(file))).flatMap(offendingLines);
    expect(offending, `move these into images/<name>/runtime.json and read them through lib/runtimes/catalog.ts:\n${offending.join("\n")}`).toEqual([]);
  });
});
