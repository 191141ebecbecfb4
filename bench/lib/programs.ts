import { runtimeCatalog, type RuntimeName } from "@/lib/runtimes/catalog";

const runtimes = runtimeCatalog().runtimes;

/** The hello-world each path runs: the same program text through the API and on the command line (runtime.json `hello`). */
export const HELLO: Record<RuntimeName, string> = Object.fromEntries(runtimes.map((runtime) => [runtime.name, runtime.hello.code]));

/** Command lines that run HELLO[runtime] inside the runtime image (docker run --rm baseline; runtime.json `hello.inImage`). */
export const IN_IMAGE_COMMAND: Record<RuntimeName, string[]> = Object.fromEntries(runtimes.map((runtime) => [runtime.name, runtime.hello.inImage]));

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
