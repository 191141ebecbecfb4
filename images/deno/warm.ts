// Warm agent: started ahead of demand, so a run skips Deno's start-up.
// stdin: "<N> <token>\n", N bytes of code, then the program's own stdin (see /opt/sandpit/recv).
// The code is written to /sandbox/main.ts and imported; write access is revoked first, so the program
// has exactly the permissions of `deno run --no-prompt main.ts` plus reading its own source. When the
// process exits, "\x1e<token>:<exit code>\x1e" goes to stdout and stderr so the worker knows both
// streams are complete without waiting for the container to stop.
function readExact(size: number): Uint8Array {
  const buffer = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    // Blocking reads on fd 0, never past the code: the program's Deno.stdin gets the rest.
    const count = Deno.stdin.readSync(buffer.subarray(filled));
    if (!count) Deno.exit(2);
    filled += count;
  }
  return buffer;
}

let header = "";
while (!header.endsWith("\n")) {
  if (header.length > 100) Deno.exit(2);
  header += String.fromCharCode(readExact(1)[0]);
}
const [size, token] = header.trim().split(" ");
const path = "/sandbox/main.ts";
// `import.meta.main` is true only for the entry module; the program must see it as `deno run main.ts` would.
const source = new TextDecoder().decode(readExact(Number(size))).replaceAll("import.meta.main", "true");
Deno.writeTextFileSync(path, source);
Deno.permissions.revokeSync({ name: "write" });

const encoder = new TextEncoder();
globalThis.addEventListener("unload", () => {
  const marker = encoder.encode(`\x1e${token}:${Deno.exitCode}\x1e`);
  for (const stream of [Deno.stdout, Deno.stderr]) {
    try {
      stream.writeSync(marker);
    } catch {
      // the stream is closed: the worker falls back to the container's exit
    }
  }
});
// Uncaught errors would end the process without "unload": report them as Deno does, then exit through it.
const fail = (error: unknown) => {
  console.error("error: Uncaught", error);
  Deno.exit(1);
};
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  fail(event.error);
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fail(event.reason);
});
try {
  await import("file://" + path);
} catch (error) {
  fail(error);
}
