import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postRun, type RunView } from "../support/api-client";
import { startAttackStack, stopAttackStack, underAttack, type AttackStack } from "../support/attack-stack";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";

/**
 * Hostile programs that try to get out: the root filesystem, host files, the Docker socket, the worker's
 * environment, the network, privileged system calls, /proc and /sys, and oversized requests.
 * Each runs through the public API under both container runtimes; see docs/security.md for the table.
 */
const CANARY = `worker-secret-${randomBytes(8).toString("hex")}`;
const show = (run: RunView) => JSON.stringify({ ...run, stdout: run.stdout.slice(0, 3000), stderr: run.stderr.slice(0, 3000) });

describe.each(CONTAINER_RUNTIMES)("hostile programs under %s", (containerRuntime) => {
  let attack: AttackStack;
  let hostDir: string;
  let marker: { path: string; secret: string };
  let tcp: http.Server;
  let udp: dgram.Socket;
  let tcpPort: number;
  let udpPort: number;
  let connectionsSeen = 0;
  let datagramsSeen = 0;

  beforeAll(async () => {
    hostDir = mkdtempSync(path.join(os.tmpdir(), "sandpit-host-marker-"));
    marker = { path: path.join(hostDir, "marker.txt"), secret: `host-secret-${randomBytes(8).toString("hex")}` };
    writeFileSync(marker.path, marker.secret, { mode: 0o644 });
    tcp = http.createServer((_request, response) => response.end("reachable"));
    tcp.on("connection", () => connectionsSeen++);
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    tcpPort = (tcp.address() as AddressInfo).port;
    udp = dgram.createSocket("udp4");
    udp.on("message", () => datagramsSeen++);
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    udpPort = udp.address().port;
    attack = await startAttackStack(containerRuntime, { SANDPIT_TEST_CANARY: CANARY });
  }, 120_000);
  afterAll(async () => {
    await stopAttackStack(attack);
    tcp?.close();
    udp?.close();
    rmSync(hostDir, { recursive: true, force: true });
  });

  it("cannot write to the root filesystem, only to its tmpfs scratch space", async () => {
    await underAttack(attack, async () => {
      const targets = ["/etc/sandpit", "/usr/sandpit", "/sandpit", "/opt/sandpit/x", "/var/tmp/x", "/bin/sh", "/sandbox/ok", "/tmp/ok"];
      const [python, node, bash] = await Promise.all([
        attack.run({
          runtime: "python",
          code: `for path in ${JSON.stringify(targets)}:\n    try:\n        open(path, 'a').write('x')\n        print('wrote', path)\n    except OSError as error:\n        print('refused', path)`,
        }),
        attack.run({
          runtime: "node",
          code: `for (const p of ${JSON.stringify(targets)}) { try { require('fs').appendFileSync(p, 'x'); console.log('wrote', p); } catch { console.log('refused', p); } }`,
        }),
        attack.run({
          runtime: "bash",
          code: `for p in ${targets.join(" ")}; do if echo x >> "$p"; then echo wrote $p; else echo refused $p; fi; done 2>/dev/null`,
        }),
      ]);
      for (const run of [python, node, bash]) {
        expect(run.status, show(run)).toBe("succeeded");
        for (const target of targets.slice(0, 6)) expect(run.stdout, show(run)).toContain(`refused ${target}\n`);
        expect(run.stdout).toContain("wrote /sandbox/ok\n");
        expect(run.stdout).toContain("wrote /tmp/ok\n");
      }
    });
  });

  it("cannot read host files, the Docker socket or the worker's environment", async () => {
    await underAttack(attack, async () => {
      const database = path.join(attack.stack.dataDir, "sandpit.db");
      const paths = [marker.path, database, "/etc/shadow", "/var/run/docker.sock", "/run/docker.sock", "/root/.bash_history", `/proc/1/root${marker.path}`];
      const [python, bash, node] = await Promise.all([
        attack.run({
          runtime: "python",
          code: [
            "import glob, os, socket",
            `for path in ${JSON.stringify(paths)}:`,
            "    try:",
            "        print('READ', path, open(path, 'rb').read(200))",
            "    except OSError as error:",
            "        print('refused', path, error.strerror)",
            "for sock in ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock']:",
            "    try:",
            "        s = socket.socket(socket.AF_UNIX); s.connect(sock); print('CONNECTED', sock)",
            "    except OSError as error:",
            "        print('refused', sock, error.strerror)",
            "print('env', dict(os.environ))",
            "for path in glob.glob('/proc/*/environ'):",
            "    try:",
            "        print('environ', path, open(path, 'rb').read())",
            "    except OSError:",
            "        pass",
          ].join("\n"),
        }),
        attack.run({
          runtime: "bash",
          code: `env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; cat ${paths.join(" ")} 2>&1; echo uid=$(id -u); grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status`,
        }),
        attack.run({
          runtime: "node",
          code: `for (const p of ${JSON.stringify(paths)}) { try { console.log('READ', p, require('fs').readFileSync(p, 'utf8')); } catch (e) { console.log('refused', p, e.code); } } console.log(JSON.stringify(process.env));`,
        }),
      ]);
      for (const run of [python, bash, node]) {
        expect(run.status === "succeeded" || run.status === "failed", show(run)).toBe(true);
        const everything = run.stdout + run.stderr;
        expect(everything).not.toContain(marker.secret);
        expect(everything).not.toContain(CANARY);
        expect(everything).not.toMatch(/SANDPIT_TEST_CANARY|WORKER_SECRET|DATA_DIR|DATABASE_PATH|WEB_URL|INSTANCE_ID/);
        expect(everything).not.toContain("SQLite format");
        expect(everything).not.toContain("READ");
        expect(everything).not.toContain("CONNECTED");
      }
      expect(python.stdout).toContain(`refused ${marker.path} No such file or directory`);
      expect(python.stdout).toContain("refused /var/run/docker.sock No such file or directory");
      // The image's own /etc/shadow exists but belongs to root: the sandbox user may not read it.
      expect(python.stdout).toContain("refused /etc/shadow Permission denied");
      expect(node.stdout).toContain(`refused ${database} ENOENT`);
      expect(bash.stdout).toContain("uid=1000");
      expect(bash.stdout).toMatch(/CapEff:\s+0000000000000000/);
      expect(bash.stdout).toMatch(/CapBnd:\s+0000000000000000/);
      if (containerRuntime === "runc") {
        // gVisor answers system calls itself, so these two are only visible (and only needed) under runc.
        expect(bash.stdout).toMatch(/NoNewPrivs:\s+1/);
        expect(bash.stdout).toMatch(/Seccomp:\s+2/);
      }
    });
  });

  it("has no network: only lo, no route, no host loopback listener, no DNS", async () => {
    await underAttack(attack, async () => {
      const [python, node, bash] = await Promise.all([
        attack.run({
          runtime: "python",
          code: [
            "import os, socket",
            // if_nameindex, not /sys/class/net: the current gVisor has no /sys/class/net without a network stack.
            "interfaces = sorted(name for _, name in socket.if_nameindex())",
            "print('interfaces', interfaces)",
            "print('routes', [l.split()[0] for l in open('/proc/net/route').read().splitlines()[1:]])",
            "try:",
            `    socket.create_connection(('127.0.0.1', ${tcpPort}), timeout=3); print('CONNECTED tcp')`,
            "except OSError as error:",
            "    print('tcp refused', type(error).__name__)",
            "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
            `u.sendto(b'probe', ('127.0.0.1', ${udpPort}))`,
            "print('udp sent into the sandbox loopback')",
            // Only with lo alone can a lookup not leave the machine: never ask a real resolver.
            "if interfaces == ['lo']:",
            "    try:",
            "        print('RESOLVED', socket.getaddrinfo('sandpit-dns-probe.example', 80))",
            "    except socket.gaierror as error:",
            "        print('dns failed', error.args[0])",
          ].join("\n"),
        }),
        attack.run({
          runtime: "node",
          code: `const s = require('net').connect(${tcpPort}, '127.0.0.1'); s.on('connect', () => { console.log('CONNECTED'); process.exit(0); }); s.on('error', (e) => console.log('tcp refused', e.code));`,
        }),
        attack.run({ runtime: "bash", code: `exec 3<>/dev/tcp/127.0.0.1/${tcpPort} && echo CONNECTED || echo tcp refused` }),
      ]);
      expect(python.status, show(python)).toBe("succeeded");
      expect(python.stdout).toContain("interfaces ['lo']");
      expect(python.stdout).toContain("routes []");
      expect(python.stdout).toContain("tcp refused ConnectionRefusedError");
      expect(python.stdout).toMatch(/dns failed -\d+/);
      expect(node.stdout, show(node)).toContain("tcp refused ECONNREFUSED");
      expect(bash.stdout, show(bash)).toContain("tcp refused");
      for (const run of [python, node, bash]) expect(run.stdout).not.toMatch(/CONNECTED|RESOLVED/);
      expect(connectionsSeen).toBe(0);
      expect(datagramsSeen).toBe(0);
    });
  });

  it("privileged system calls fail: ptrace, mount, unshare, keyctl, bpf, raw sockets", async () => {
    // Each probe runs in a fresh process so one that succeeds (inside gVisor's own kernel) cannot help the next.
    const probe = [
      "import ctypes, errno, os, socket, subprocess, sys",
      "PROBES = {",
      "  'mount-tmpfs': (165, b'none', b'/tmp/m', b'tmpfs', 0, 0),",
      "  'umount-proc': (166, b'/proc', 2),",
      "  'unshare-user': (272, 0x10000000),",
      "  'unshare-mount': (272, 0x00020000),",
      "  'unshare-net': (272, 0x40000000),",
      "  'add_key': (248, b'user', b'k', b'v', 1, 0xfffffffe),",
      "  'keyctl-join': (250, 1, 0),",
      "  'bpf-prog-load': (321, 5, 'BUF', 128),",
      "  'perf_event_open': (298, 'BUF', 0, -1, -1, 0),",
      "  'chroot': (161, b'/tmp'),",
      "  'setuid-root': (105, 0),",
      "  'init_module': (175, 0, 0, b''),",
      "  'kexec_load': (246, 0, 0, 0, 0),",
      "}",
      "def run(name):",
      "    if name in ('raw-socket', 'packet-socket'):",
      "        try:",
      "            socket.socket(socket.AF_INET, socket.SOCK_RAW, 1) if name == 'raw-socket' else socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)",
      "            return 'OK'",
      "        except OSError as error:",
      "            return errno.errorcode[error.errno]",
      "    libc = ctypes.CDLL(None, use_errno=True)",
      "    os.makedirs('/tmp/m', exist_ok=True)",
      "    args = [ctypes.create_string_buffer(128) if a == 'BUF' else a for a in PROBES[name]]",
      "    result = libc.syscall(*args)",
      "    return 'OK' if result >= 0 else errno.errorcode[ctypes.get_errno()]",
      "if len(sys.argv) > 1:",
      "    print(run(sys.argv[1]))",
      "else:",
      "    for name in [*PROBES, 'raw-socket', 'packet-socket']:",
      "        out = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True).stdout.strip()",
      "        print(name, out)",
      "    child = os.fork()",
      "    if child == 0:",
      "        import time; time.sleep(5); os._exit(0)",
      "    libc = ctypes.CDLL(None, use_errno=True)",
      "    attached = libc.syscall(101, 16, child, 0, 0)",
      "    print('ptrace-own-child', 'OK' if attached >= 0 else errno.errorcode[ctypes.get_errno()])",
      "    os.kill(child, 9)",
    ].join("\n");
    await underAttack(attack, async () => {
      const [python, bash] = await Promise.all([
        attack.run({ runtime: "python", timeout: 30, code: probe }),
        attack.run({
          runtime: "bash",
          code: [
            "mount -t tmpfs none /tmp 2>/dev/null; echo mount=$?",
            "unshare -r true 2>/dev/null; echo unshare=$?",
            "mknod /tmp/sda b 8 0 2>/dev/null; echo mknod=$?",
            "head -c 16 /tmp/sda > /dev/null 2>&1; echo open-device=$?",
            "nsenter -t 1 -m true 2>/dev/null; echo nsenter=$?",
          ].join("; "),
        }),
      ]);
      expect(python.status, show(python)).toBe("succeeded");
      const outcome = Object.fromEntries(
        python.stdout
          .trim()
          .split("\n")
          .map((line) => line.split(" ") as [string, string]),
      );
      // Docker's seccomp profile refuses each under both: runc's host kernel applies it, and runsc applies it
      // inside the sandbox too (--oci-seccomp), before gVisor's own kernel would answer.
      const expected: Record<string, string> = {
        "mount-tmpfs": "EPERM",
        "umount-proc": "EPERM",
        "unshare-user": "EPERM",
        "unshare-mount": "EPERM",
        "unshare-net": "EPERM",
        add_key: "EPERM",
        "keyctl-join": "EPERM",
        "bpf-prog-load": "EPERM",
        perf_event_open: "EPERM",
        chroot: "EPERM",
        "setuid-root": "EPERM",
        init_module: "EPERM",
        kexec_load: "EPERM",
        "raw-socket": "EPERM",
        "packet-socket": "EPERM",
      };
      for (const [name, errno] of Object.entries(expected)) expect(`${name} ${outcome[name]}`, show(python)).toBe(`${name} ${errno}`);
      // Tracing its own child is allowed under both (same user, inside the sandbox); no host process is
      // even visible to name (see the /proc test).
      expect(outcome["ptrace-own-child"]).toBe("OK");
      // Refused under both: runc's host kernel, and the current gVisor (no CAP_MKNOD; the profile inside).
      expect(bash.stdout, show(bash)).toBe("mount=32\nunshare=1\nmknod=1\nopen-device=1\nnsenter=1\n");
    });
  });

  it("unshare(CLONE_NEWNS) and mount fail: Docker's seccomp profile applies inside gVisor too (--oci-seccomp)", async () => {
    // Without --oci-seccomp runsc ignores the profile and gVisor's kernel grants a sandbox its own mount namespace.
    await underAttack(attack, async () => {
      const [python, bash] = await Promise.all([
        attack.run({
          runtime: "python",
          code: [
            "import ctypes, errno",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "def outcome(result): return 'OK' if result >= 0 else errno.errorcode[ctypes.get_errno()]",
            "print('unshare-newns', outcome(libc.unshare(0x00020000)))",
            "print('unshare-newuser', outcome(libc.unshare(0x10000000)))",
            "print('mount', outcome(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)))",
          ].join("\n"),
        }),
        attack.run({ runtime: "bash", code: "unshare -m true 2>/dev/null; echo unshare-m=$?; mount -t tmpfs none /tmp 2>/dev/null; echo mount=$?" }),
      ]);
      expect(python.stdout, show(python)).toBe("unshare-newns EPERM\nunshare-newuser EPERM\nmount EPERM\n");
      expect(bash.stdout, show(bash)).toBe("unshare-m=1\nmount=32\n");
    });
  });

  it("sees nothing of the host through /proc and /sys, and cannot write to either", async () => {
    await underAttack(attack, async () => {
      const [python, bash] = await Promise.all([
        attack.run({
          runtime: "python",
          code: [
            "import os",
            "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())",
            "print('pids', len(pids))",
            "for pid in pids:",
            "    try:",
            "        print('cmdline', pid, open(f'/proc/{pid}/cmdline').read().replace('\\0', ' '))",
            "    except OSError:",
            "        pass",
            "print('hostname', open('/proc/sys/kernel/hostname').read().strip())",
            "try:",
            "    addresses = {line.split()[0] for line in open('/proc/kallsyms')}",
            "    print('kallsyms addresses', sorted(addresses)[:3])",
            "except OSError:",
            "    print('kallsyms refused')",
            "for path in ['/proc/kcore', '/dev/kmsg', '/proc/sysrq-trigger', '/sys/firmware/dmi/tables/DMI', '/dev/mem']:",
            "    try:",
            "        data = open(path, 'rb').read(64)",
            "        print('readable', path, len(data))",
            "    except OSError as error:",
            "        print('refused', path)",
            "for path in ['/proc/sys/kernel/hostname', '/proc/sys/vm/drop_caches', '/proc/sysrq-trigger', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/kernel/mm/transparent_hugepage/enabled']:",
            "    try:",
            "        open(path, 'w').write('1')",
            "        print('WROTE', path)",
            "    except OSError:",
            "        print('read-only', path)",
          ].join("\n"),
        }),
        attack.run({ runtime: "bash", code: "hostname; ls /proc | grep -c '^[0-9]'; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /dev" }),
      ]);
      expect(python.status, show(python)).toBe("succeeded");
      // Only the sandbox's own processes, never dockerd, containerd, the worker or the host's init.
      expect(Number(python.stdout.match(/^pids (\d+)$/m)?.[1])).toBeLessThan(10);
      expect(python.stdout).not.toMatch(/dockerd|containerd|systemd|worker\/main|server\.ts|\/sbin\/init/);
      expect(bash.stdout).not.toMatch(/dockerd|containerd|systemd|worker\/main|server\.ts/);
      const hostname = python.stdout.match(/^hostname (.+)$/m)?.[1];
      expect(hostname).toMatch(/^[0-9a-f]{12}$/);
      expect(hostname).not.toBe(os.hostname());
      expect(python.stdout).not.toContain("readable");
      // Kernel symbols may be listed (runc) but never with their addresses, which would defeat KASLR.
      expect(python.stdout).toMatch(/kallsyms refused|kallsyms addresses \['0000000000000000'\]/);
      expect(python.stdout).not.toContain("WROTE");
      // No host devices: only the container's own pseudo-devices.
      expect(bash.stdout).not.toMatch(/\b(sd[a-z]|vd[a-z]|nvme\d|mem|kmsg|port)\b/);
    });
  });

  it("oversized code and stdin are refused with a message and nothing is queued", async () => {
    await underAttack(attack, async () => {
      const countRuns = () => {
        const db = new Database(path.join(attack.stack.dataDir, "sandpit.db"), { readonly: true, fileMustExist: true });
        try {
          return (db.prepare("select count(*) as n from runs").get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      const maxCode = 512 * 1024;
      const maxBody = 1024 * 1024;
      const python = (padding: number) => `import sys\nprint(len(open(__file__).read()), len(sys.stdin.read()))\n#${"x".repeat(padding)}`;
      const prefix = python(0).length;
      const before = countRuns();
      const overCode = await postRun(attack.stack.baseUrl, { runtime: "python", code: python(maxCode - prefix + 1) });
      const overBody = await postRun(attack.stack.baseUrl, { runtime: "python", code: "print(1)", stdin: "s".repeat(maxBody) });
      const notJson = await postRun(attack.stack.baseUrl, '{"runtime": "python", "code": ' + "[".repeat(100_000));
      expect(overCode.status).toBe(400);
      expect(overCode.json.error).toMatch(/code must be at most 524288 bytes/);
      expect(overBody.status).toBe(413);
      expect(overBody.json.error).toMatch(/\S/);
      expect(notJson.status).toBe(400);
      expect(notJson.json.error).toMatch(/\S/);
      expect(countRuns()).toBe(before);

      // Just under both limits: the whole code and the whole stdin reach the program.
      const stdinBytes = maxBody - maxCode - 1024;
      const [atCodeLimit, bigStdin] = await Promise.all([
        attack.run({ runtime: "python", code: python(maxCode - prefix) }),
        attack.run({ runtime: "python", code: python(0), stdin: "s".repeat(stdinBytes) }),
      ]);
      expect(atCodeLimit.status, show(atCodeLimit)).toBe("succeeded");
      expect(atCodeLimit.stdout).toBe(`${maxCode} 0\n`);
      expect(bigStdin.status, show(bigStdin)).toBe("succeeded");
      expect(bigStdin.stdout).toBe(`${prefix} ${stdinBytes}\n`);
    });
  });
});
