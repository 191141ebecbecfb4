import type { RuntimeName } from "@/lib/runtimes/catalog";

/** The hello-world each path runs: the same program text through the API and on the command line. */
export const HELLO: Record<RuntimeName, string> = {
  python: "print('hello')",
  node: "console.log('hello')",
  deno: "console.log('hello')",
  go: 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n',
  bash: "echo hello",
};

/** Command lines that run HELLO[runtime] inside the runtime image (docker run --rm baseline). */
export const IN_IMAGE_COMMAND: Record<RuntimeName, string[]> = {
  python: ["python3", "-c", HELLO.python],
  node: ["node", "-e", HELLO.node],
  deno: ["deno", "eval", HELLO.deno],
  // The image's own compile-and-run path (prebuilt std, direct compile/link), as the worker uses it.
  go: ["bash", "-c", `printf '%s' '${HELLO.go}' > main.go && exec /opt/sandpit/call`],
  bash: ["bash", "-c", HELLO.bash],
};

/**
 * Programs whose own running time is the measurement: each prints `elapsed <ms>` timed inside the sandbox,
 * so container start and the API do not dilute what the kernel boundary (runc vs gVisor) costs.
 */
export const TIMED_PROGRAMS = {
  "20k stat()": [
    "import os, time",
    "t = time.perf_counter()",
    "for _ in range(20000): os.stat('/usr')",
    "print('elapsed %.3f' % ((time.perf_counter() - t) * 1000))",
  ].join("\n"),
  "20× fork+exec /bin/true": [
    "import subprocess, time",
    "t = time.perf_counter()",
    "for _ in range(20): subprocess.run(['/bin/true'], check=True)",
    "print('elapsed %.3f' % ((time.perf_counter() - t) * 1000))",
  ].join("\n"),
  "CPU-bound (3M-step loop)": [
    "import time",
    "t = time.perf_counter()",
    "total = 0",
    "for i in range(3000000): total += i * i % 7",
    "print('elapsed %.3f' % ((time.perf_counter() - t) * 1000))",
  ].join("\n"),
} as const;
export type TimedProgram = keyof typeof TIMED_PROGRAMS;

/** A program that prints its own write times (epoch ms), for the streaming latency measurement. */
export const TIMESTAMP_WRITER = [
  "import sys, time",
  "for _ in range(5):",
  "    sys.stdout.write('%.3f\\n' % (time.time() * 1000))",
  "    sys.stdout.flush()",
  "    time.sleep(0.02)",
].join("\n");
