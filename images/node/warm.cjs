// Warm agent: started ahead of demand, so a run skips Node's start-up.
// stdin: "<N> <token>\n", N bytes of code, then the program's own stdin (see /opt/sandpit/recv).
// The code becomes the main module, as with `node main.js`; when the process exits,
// "\x1e<token>:<exit code>\x1e" goes to stdout and stderr so the worker knows both streams are
// complete without waiting for the container to stop.
"use strict";
const fs = require("node:fs");

function readExact(size) {
  const buffer = Buffer.alloc(size);
  let filled = 0;
  while (filled < size) {
    // One blocking read(2) at a time on fd 0: process.stdin is untouched, so the program gets the rest.
    const count = fs.readSync(0, buffer, filled, size - filled, null);
    if (count === 0) process.exit(2);
    filled += count;
  }
  return buffer;
}

function readHeader() {
  let line = "";
  while (!line.endsWith("\n")) {
    if (line.length > 100) process.exit(2);
    line += readExact(1).toString("latin1");
  }
  const [size, token] = line.trim().split(" ");
  return { size: Number(size), token };
}

const { size, token } = readHeader();
const path = "/sandbox/main.js";
fs.writeFileSync(path, readExact(size));
process.on("exit", (code) => {
  const marker = `\x1e${token}:${code ?? 0}\x1e`;
  for (const fd of [1, 2]) {
    try {
      fs.writeSync(fd, marker);
    } catch {}
  }
});
process.argv[1] = path;
require("node:module").runMain(path);
