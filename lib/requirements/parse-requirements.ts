import npa from "npm-package-arg";

/**
 * Requirement text from a client is untrusted: it is cut to size before anything parses it, parsed by linear,
 * hand-written code (never a backtracking regex), and only registry packages pass. What comes out is a
 * canonical form rebuilt from the parse, so the installer never sees a byte the parser did not understand.
 */
export const MAX_REQUIREMENT_CHARS = 200;
export const MAX_REQUIREMENTS = 64;
export const MAX_REQUIREMENTS_BYTES = 8 * 1024;
/** How much of an offending entry an error quotes. */
const QUOTE_CHARS = 100;

/** How a runtime installs requirements (its runtime.json `requirements`): PEP 508 entries for pip, npm specs for npm. */
export type RequirementsInstaller = "pip" | "npm";
export type ParsedRequirements = { ok: true; requirements: string[] } | { ok: false; message: string };

class RefusedEntry extends Error {}

/** Quotes an entry for an error message: JSON-escaped and at most 100 characters of it. */
export function quoteEntry(entry: string): string {
  return JSON.stringify(entry.length > QUOTE_CHARS ? `${entry.slice(0, QUOTE_CHARS)}…` : entry);
}

/**
 * Splits, bounds and parses a requirements list (array, or requirements.txt-style text with one entry a line;
 * `#` starts a comment). Returns the canonical, de-duplicated, sorted set, or the first refused entry by name.
 */
export function parseRequirements(installer: RequirementsInstaller, input: string | string[]): ParsedRequirements {
  const totalBytes = Array.isArray(input) ? input.reduce((sum, entry) => sum + Buffer.byteLength(String(entry)) + 1, 0) : Buffer.byteLength(input);
  if (totalBytes > MAX_REQUIREMENTS_BYTES) return { ok: false, message: `requirements are at most ${MAX_REQUIREMENTS_BYTES} bytes in all` };
  const rawEntries = Array.isArray(input) ? input : input.split("\n");
  if (rawEntries.length > MAX_REQUIREMENTS * 4) return { ok: false, message: `requirements list at most ${MAX_REQUIREMENTS} packages` };
  const entries: string[] = [];
  for (const raw of rawEntries) {
    const hash = raw.indexOf("#");
    const entry = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (entry) entries.push(entry);
  }
  if (entries.length > MAX_REQUIREMENTS) return { ok: false, message: `requirements list at most ${MAX_REQUIREMENTS} packages` };
  const parsed: string[] = [];
  for (const entry of entries) {
    if (entry.length > MAX_REQUIREMENT_CHARS) {
      return { ok: false, message: `requirement ${quoteEntry(entry)} is longer than ${MAX_REQUIREMENT_CHARS} characters` };
    }
    try {
      parsed.push(installer === "pip" ? parsePep508(entry) : parseNpmSpec(entry));
    } catch (error) {
      if (!(error instanceof RefusedEntry)) throw error;
      return { ok: false, message: `requirement ${quoteEntry(entry)} is refused: ${error.message}` };
    }
  }
  return { ok: true, requirements: [...new Set(parsed)].sort() };
}

const isAlnum = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9");
const isNameChar = (c: string) => isAlnum(c) || c === "-" || c === "_" || c === ".";
const isVersionChar = (c: string) => isAlnum(c) || c === "." || c === "*" || c === "+" || c === "!" || c === "-" || c === "_";
/** Marker text is passed through opaque, so only the characters markers are written with get through. */
const isMarkerChar = (c: string) => isAlnum(c) || " \t._-'\"<>=!~(),".includes(c);
/** PEP 440 comparison operators, longest first so `===` is not read as `==` then `=`. */
const VERSION_OPERATORS = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"];

/** Refusals that name what the entry is, so a caller learns why rather than "bad syntax". */
function refuseNonRegistryPython(entry: string): void {
  if (entry.startsWith("-")) throw new RefusedEntry("options (-e, -r, --index-url, …) are not accepted; list package names only");
  if (entry.includes("://") || /^(git|hg|svn|bzr)\+/i.test(entry))
    throw new RefusedEntry("only packages from the configured index are installed, not URLs or VCS references");
  if (entry.startsWith(".") || entry.startsWith("/") || entry.startsWith("~") || entry.startsWith("file:")) {
    throw new RefusedEntry("only packages from the configured index are installed, not paths or files");
  }
}

/**
 * A PEP 508 requirement, registry form only: `name[extra,...] specifier-list ; marker`. One pass over the
 * characters; direct references (`name @ url`) are refused. Returns the canonical form with the PEP 503
 * normalised name.
 */
export function parsePep508(entry: string): string {
  refuseNonRegistryPython(entry);
  let at = 0;
  const peek = () => entry[at] ?? "";
  const skipSpace = () => {
    while (peek() === " " || peek() === "\t") at++;
  };
  const readName = (what: string): string => {
    const start = at;
    if (!isAlnum(peek())) throw new RefusedEntry(`expected a ${what} at character ${at + 1}`);
    while (isNameChar(peek())) at++;
    const name = entry.slice(start, at);
    if (!isAlnum(name[name.length - 1])) throw new RefusedEntry(`${what} ${JSON.stringify(name)} must end with a letter or digit`);
    return name.toLowerCase().replace(/[-_.]+/g, "-");
  };

  const name = readName("package name");
  skipSpace();
  const extras: string[] = [];
  if (peek() === "[") {
    at++;
    skipSpace();
    if (peek() !== "]") {
      for (;;) {
        extras.push(readName("extra name"));
        skipSpace();
        if (peek() === ",") {
          at++;
          skipSpace();
          continue;
        }
        break;
      }
    }
    if (peek() !== "]") throw new RefusedEntry(`expected "]" at character ${at + 1}`);
    at++;
    skipSpace();
  }
  if (peek() === "@") throw new RefusedEntry("direct references (name @ url) are not accepted; only packages from the configured index");

  const specifiers: string[] = [];
  const parenthesised = peek() === "(";
  if (parenthesised) {
    at++;
    skipSpace();
  }
  if (VERSION_OPERATORS.some((op) => entry.startsWith(op, at))) {
    for (;;) {
      const op = VERSION_OPERATORS.find((candidate) => entry.startsWith(candidate, at));
      if (!op) throw new RefusedEntry(`expected a version operator (==, >=, <, ~=, …) at character ${at + 1}`);
      at += op.length;
      skipSpace();
      const start = at;
      while (isVersionChar(peek())) at++;
      if (at === start) throw new RefusedEntry(`expected a version after ${op} at character ${at + 1}`);
      specifiers.push(op + entry.slice(start, at));
      skipSpace();
      if (peek() !== ",") break;
      at++;
      skipSpace();
    }
  }
  if (parenthesised) {
    if (peek() !== ")") throw new RefusedEntry(`expected ")" at character ${at + 1}`);
    at++;
    skipSpace();
  }

  let marker = "";
  if (peek() === ";") {
    at++;
    const start = at;
    while (at < entry.length && isMarkerChar(entry[at])) at++;
    marker = entry.slice(start, at).trim();
    if (at < entry.length) throw new RefusedEntry(`character ${JSON.stringify(entry[at])} is not allowed in an environment marker`);
    if (!marker) throw new RefusedEntry("an empty environment marker after ';'");
  }
  if (at < entry.length) throw new RefusedEntry(`unexpected ${JSON.stringify(entry[at])} at character ${at + 1}; expected a version specifier or ';'`);

  return `${name}${extras.length ? `[${[...new Set(extras)].sort().join(",")}]` : ""}${specifiers.join(",")}${marker ? `; ${marker}` : ""}`;
}

/** npm spec types that resolve from the registry; git, remote, file, directory and aliases do not. */
const REGISTRY_SPEC_TYPES = new Set(["tag", "version", "range"]);

/** An npm package spec by npm's own rules (npm-package-arg), registry specs only. Returns `name@spec`. */
export function parseNpmSpec(entry: string): string {
  if (entry.startsWith("-")) throw new RefusedEntry("options are not accepted; list package names only");
  let spec: npa.Result;
  try {
    // A fixed, nonexistent base: a relative spec must never resolve against the worker's own directory.
    spec = npa(entry, "/nonexistent");
  } catch (error) {
    throw new RefusedEntry(`not an npm package spec (${(error as Error).message.slice(0, 200)})`);
  }
  if (!REGISTRY_SPEC_TYPES.has(spec.type) || !spec.name) {
    throw new RefusedEntry(`only registry packages are installed, not ${spec.type} specs (git, URLs, files, directories and aliases are refused)`);
  }
  return `${spec.name}@${spec.fetchSpec ?? "*"}`;
}
