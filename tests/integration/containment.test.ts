import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd } from "../support/api-client";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type Stack } from "../support/stack";

describe.each(CONTAINER_RUNTIMES)("containment under %s", (containerRuntime) => {
  let stack: Stack;
  let listener: http.Server;
  let listenerPort: number;
  let connectionsSeen = 0;

  beforeAll(async () => {
    listener = http.createServer((_request, response) => response.end("reachable"));
    listener.on("connection", () => connectionsSeen++);
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    listenerPort = (listener.address() as AddressInfo).port;
    stack = await startStack({
      containerRuntime,
      workerEnv: { SANDPIT_TEST_CANARY: "canary-value-must-not-leak" },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    listener?.close();
  });

  it("cannot reach a server on the host's loopback and has no network interface but lo", async () => {
    const run = await runToEnd(stack.baseUrl, {
      runtime: "python",
      code: [
        "import os, socket",
        "print('interfaces', sorted(os.listdir('/sys/class/net')))",
        "for host in ['127.0.0.1', 'localhost']:",
        "    try:",
        `        socket.create_connection((host, ${listenerPort}), timeout=3)`,
        "        print('CONNECTED', host)",
        "    except OSError as error:",
        "        print('blocked', host, type(error).__name__)",
      ].join("\n"),
    });
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.stdout).not.toContain("CONNECTED");
    expect(run.stdout).toContain("blocked 127.0.0.1");
    expect(run.stdout).toContain("interfaces ['lo']");
    expect(connectionsSeen).toBe(0);
  });

  it("cannot write outside its working directory", async () => {
    const run = await runToEnd(stack.baseUrl, {
      runtime: "python",
      code: [
        "for path in ['/etc/sandpit', '/usr/sandpit', '/sandpit', '/opt/sandpit/x', '/var/tmp/x', '/sandbox/ok', '/tmp/ok']:",
        "    try:",
        "        open(path, 'w').write('x')",
        "        print('wrote', path)",
        "    except OSError as error:",
        "        print('refused', path, error.strerror)",
      ].join("\n"),
    });
    expect(run.status).toBe("succeeded");
    for (const path of ["/etc/sandpit", "/usr/sandpit", "/sandpit", "/opt/sandpit/x", "/var/tmp/x"]) {
      expect(run.stdout).toContain(`refused ${path}`);
    }
    expect(run.stdout).toContain("wrote /sandbox/ok");
    expect(run.stdout).toContain("wrote /tmp/ok");
  });

  it("sees none of the worker's environment and runs unprivileged", async () => {
    const run = await runToEnd(stack.baseUrl, {
      runtime: "bash",
      code: "env; echo uid=$(id -u); grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status",
    });
    expect(run.status).toBe("succeeded");
    expect(run.stdout).not.toContain("canary-value-must-not-leak");
    expect(run.stdout).not.toMatch(/SANDPIT_TEST_CANARY|WORKER_SECRET|DATA_DIR|DATABASE_PATH|WEB_URL/);
    expect(run.stdout).toContain("uid=1000");
    expect(run.stdout).toMatch(/CapEff:\s+0000000000000000/);
    if (containerRuntime === "runc") {
      // gVisor answers system calls itself, so these two are only visible (and only needed) under runc.
      expect(run.stdout).toMatch(/NoNewPrivs:\s+1/);
      expect(run.stdout).toMatch(/Seccomp:\s+2/);
    }
  });
});
