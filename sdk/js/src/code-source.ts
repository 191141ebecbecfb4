import { existsSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ValidationError } from "./errors.js";

/** Extensions that make a single token count as a file name. */
export const SOURCE_EXTENSIONS = [".py", ".js", ".mjs", ".ts", ".go", ".sh"] as const;

/** Command words the server recognises as "run this command" rather than source text. */
const COMMAND_WORDS = new Set(["python", "python3", "node", "deno", "go", "bash", "sh"]);

/** `~/x` → `$HOME/x`. */
export function expandHome(value: string): string {
  if (value === "~") return os.homedir();
  if (value.startsWith("~/")) return path.join(os.homedir(), value.slice(2));
  return value;
}

/**
 * Whether a `code` (or `model`) value is meant as a path: one line, and either it starts with
 * `/`, `./`, `../` or `~/` (but not `//` or `/*`, which begin JavaScript comments), or it is a single
 * token ending in a known source extension (`inference.py`).
 */
export function looksLikePath(value: string, extensions: readonly string[] = SOURCE_EXTENSIONS): boolean {
  const text = value.trim();
  if (!text || text.includes("\n") || text.length > 4096) return false;
  if (text.startsWith("//") || text.startsWith("/*")) return false;
  if (/^(\/|\.\/|\.\.\/|~\/)/.test(text)) return true;
  return !/\s/.test(text) && extensions.some((extension) => text.endsWith(extension));
}

/** Resolves a path-like value against the working directory (after `~` expansion). */
export function resolveLocalPath(value: string): string {
  return path.resolve(expandHome(value.trim()));
}

export type ResolvedCode = {
  code: string;
  /** Local files a command refers to (`python inference.py "x"`), to be written into `/sandbox`. */
  files: { path: string; content: string }[];
};

/**
 * What to send as `code`: inline text as given; a path → the file's text (a missing file is a
 * `ValidationError` on `code`); a command → as given, plus the relative local files it names.
 */
export function resolveCode(code: string): ResolvedCode {
  if (looksLikePath(code)) {
    const file = resolveLocalPath(code);
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new ValidationError(`code looks like a file path but ${file} does not exist (pass source text, or a path to an existing file)`, {
        field: "code",
      });
    }
    return { code: readFileSync(file, "utf8"), files: [] };
  }
  return { code, files: filesNamedByCommand(code) };
}

/** Whether `text` is one line starting with a command word (`python x.py`, `bash -c "…"`): what `run("…")` runs. */
export function isCommandLine(text: string): boolean {
  const trimmed = text.trim();
  if (!trimmed || trimmed.includes("\n") || trimmed.length > 10_000) return false;
  return COMMAND_WORDS.has(trimmed.split(/\s+/, 1)[0]!);
}

/** For a one-line command such as `python inference.py "x"`, the existing relative source files it names. */
export function filesNamedByCommand(code: string): { path: string; content: string }[] {
  const text = code.trim();
  if (text.includes("\n")) return [];
  const words = text.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
  if (!words.length || !COMMAND_WORDS.has(words[0]!)) return [];
  const files: { path: string; content: string }[] = [];
  for (const raw of words.slice(1)) {
    const word = raw.replace(/^["']|["']$/g, "");
    if (path.isAbsolute(word) || word.startsWith("~")) continue;
    if (!SOURCE_EXTENSIONS.some((extension) => word.endsWith(extension))) continue;
    const relative = path.normalize(word);
    if (relative.startsWith("..")) continue;
    const local = path.resolve(relative);
    if (existsSync(local) && statSync(local).isFile()) {
      files.push({ path: relative.split(path.sep).join("/"), content: readFileSync(local).toString("base64") });
    }
  }
  return files;
}

/** A `requirements` string naming an existing `*.txt` file is replaced by that file's text. */
export function resolveRequirements(requirements: string): string {
  const text = requirements.trim();
  if (!text.includes("\n") && !text.includes(",") && text.endsWith(".txt")) {
    const file = resolveLocalPath(text);
    if (existsSync(file) && statSync(file).isFile()) return readFileSync(file, "utf8");
    if (looksLikePath(text, [".txt"])) {
      throw new ValidationError(`requirements looks like a file path but ${file} does not exist`, { field: "requirements" });
    }
  }
  return requirements;
}
