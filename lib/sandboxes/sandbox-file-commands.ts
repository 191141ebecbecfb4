/**
 * Shell commands that move a file in or out of a sandbox. They run inside the sandbox as its own
 * unprivileged user (never as the worker or root), so the worker never touches a path the sandbox controls.
 * On top of that, they refuse to follow a symbolic link or open anything but a regular file at any step
 * of the path: a planted `link -> /etc/passwd` or `dir -> /` is an error, not a redirection. A sandbox
 * racing these checks can only redirect its own user's access within its own container.
 */

/** Exit code of a refused path (a link, a non-directory parent, a non-regular file). */
export const REFUSED_EXIT = 3;
/** Exit code of a download whose file does not exist. */
export const MISSING_EXIT = 4;

/** Single-quotes a validated path for bash. */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** Walks `path` from /sandbox one component at a time; `onMissingDir` runs for a parent that is not there. */
function walk(path: string, onMissingDir: string): string {
  return [
    `p=${shellQuote(path)}; cur=/sandbox; IFS=/ read -r -a parts <<< "$p"; n=\${#parts[@]}`,
    "for ((i = 0; i < n; i++)); do",
    '  cur+="/${parts[i]}"',
    `  if [[ -L $cur ]]; then echo "refused: \${cur#/sandbox/} is a symbolic link" >&2; exit ${REFUSED_EXIT}; fi`,
    "  if ((i < n - 1)); then",
    `    if [[ ! -e $cur ]]; then ${onMissingDir}; elif [[ ! -d $cur ]]; then echo "refused: \${cur#/sandbox/} is not a directory" >&2; exit ${REFUSED_EXIT}; fi`,
    "  fi",
    "done",
    `if [[ -e $cur && ! -f $cur ]]; then echo "refused: $p is not a regular file" >&2; exit ${REFUSED_EXIT}; fi`,
  ].join("\n");
}

/** Decodes base64 from stdin into /sandbox/<path>, making missing parent directories. */
export function uploadCommand(path: string): string {
  return [walk(path, `mkdir -- "$cur" || exit ${REFUSED_EXIT}`), 'base64 -d > "$cur"'].join("\n");
}

/** Prints /sandbox/<path> as one line of base64. */
export function downloadCommand(path: string): string {
  const missing = `echo "no such file: $p" >&2; exit ${MISSING_EXIT}`;
  return [walk(path, missing), `[[ -f $cur ]] || { ${missing}; }`, 'base64 -w0 -- "$cur"'].join("\n");
}
