import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  isInternalAddress,
  parseTarget,
  PROXY_SOCKET_NAME,
  registryHostPorts,
  resolveAllowedTarget,
  startRegistryProxy,
  type RegistryProxy,
} from "@/worker/sandboxes/registry-proxy";
import { registryAllowlist } from "@/worker/sandboxes/requirements-image";

/** The requirements fetch step's only way out: see docs/security.md, "Package installs". */
describe("the registry proxy's allowlist", () => {
  it("allows exactly the configured registries' host:port, defaults filled in", () => {
    const python = registryAllowlist({
      imagePrefix: "",
      runtime: "python",
      requirements: [],
      buildTimeoutMs: 1,
      pipIndexUrl: "https://pypi.org/simple",
      pipFileHosts: ["files.pythonhosted.org"],
      npmRegistry: "https://registry.npmjs.org/",
    });
    expect([...python].sort()).toEqual(["files.pythonhosted.org:443", "pypi.org:443"]);
    const node = registryAllowlist({
      imagePrefix: "",
      runtime: "node",
      requirements: [],
      buildTimeoutMs: 1,
      pipIndexUrl: "https://pypi.org/simple",
      npmRegistry: "http://127.0.0.1:4873/",
    });
    expect([...node]).toEqual(["127.0.0.1:4873"]);
    expect([...registryHostPorts(["HTTP://Example.COM/simple", "mirror.example:8443", "", "http://[::1]:4873/"])]).toEqual([
      "example.com:80",
      "mirror.example:8443",
      "::1:4873",
    ]);
    expect(parseTarget("[::1]:4873", 443)).toEqual({ host: "::1", port: 4873 });
  });

  it("parses CONNECT authorities and absolute URLs, and nothing else", () => {
    expect(parseTarget("pypi.org:443", 443)).toEqual({ host: "pypi.org", port: 443 });
    expect(parseTarget("http://127.0.0.1:4873/is-number", 80)).toEqual({ host: "127.0.0.1", port: 4873 });
    expect(parseTarget("[::1]:22", 443)).toEqual({ host: "::1", port: 22 });
    expect(parseTarget("a".repeat(600), 443)).toBeNull();
    expect(parseTarget("pypi.org:99999", 443)).toBeNull();
  });

  it("knows loopback, private, link-local, CGNAT and unspecified addresses", () => {
    for (const address of [
      "127.0.0.1",
      "10.1.2.3",
      "172.17.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "::",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "not-an-ip",
    ]) {
      expect(isInternalAddress(address), address).toBe(true);
    }
    for (const address of ["151.101.0.223", "104.16.0.1", "2a04:4e42::223"]) expect(isInternalAddress(address), address).toBe(false);
  });

  it("refuses a host that is not configured, and a configured name that resolves inside", async () => {
    const allowed = registryHostPorts(["https://pypi.org/simple", "http://127.0.0.1:4873"]);
    const publicLookup = async () => "151.101.0.223";
    expect(await resolveAllowedTarget(allowed, "pypi.org", 443, publicLookup)).toEqual({ address: "151.101.0.223" });
    expect(await resolveAllowedTarget(allowed, "127.0.0.1", 4873, publicLookup)).toEqual({ address: "127.0.0.1" });
    for (const [host, port] of [
      ["127.0.0.1", 22],
      ["169.254.169.254", 80],
      ["pypi.org", 80],
      ["evil.example", 443],
      ["172.17.0.1", 4873],
    ] as const) {
      expect(await resolveAllowedTarget(allowed, host, port, publicLookup), `${host}:${port}`).toHaveProperty("refused");
    }
    expect(await resolveAllowedTarget(allowed, "pypi.org", 443, async () => "169.254.169.254")).toEqual({
      refused: "pypi.org resolves to an internal address",
    });
    expect(await resolveAllowedTarget(allowed, "pypi.org", 443, async () => Promise.reject(new Error("NXDOMAIN")))).toEqual({
      refused: "pypi.org does not resolve",
    });
  });
});

describe("the registry proxy on its socket", () => {
  let proxy: RegistryProxy | undefined;
  const servers: net.Server[] = [];
  afterEach(async () => {
    await proxy?.close();
    for (const server of servers.splice(0)) server.close();
  });

  async function listener(): Promise<{ port: number; connections: () => number }> {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.end("hello from the registry\n");
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { port: (server.address() as net.AddressInfo).port, connections: () => connections };
  }

  /** Sends one request over the proxy socket and returns everything it answered. */
  function viaSocket(socketPath: string, request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk.toString()));
      socket.on("end", () => resolve(answer));
      socket.on("error", reject);
      socket.write(request);
    });
  }

  it("tunnels to a configured host:port and refuses any other, which sees no connection", async () => {
    const registry = await listener();
    const other = await listener();
    proxy = await startRegistryProxy(registryHostPorts([`http://127.0.0.1:${registry.port}`]));
    const socketPath = path.join(proxy.hostDir, PROXY_SOCKET_NAME);

    const allowed = await viaSocket(socketPath, `CONNECT 127.0.0.1:${registry.port} HTTP/1.1\r\nhost: 127.0.0.1:${registry.port}\r\n\r\n`);
    expect(allowed).toContain("200 Connection established");
    expect(allowed).toContain("hello from the registry");
    expect(registry.connections()).toBe(1);

    const refused = await viaSocket(socketPath, `CONNECT 127.0.0.1:${other.port} HTTP/1.1\r\nhost: 127.0.0.1:${other.port}\r\n\r\n`);
    expect(refused).toMatch(/^HTTP\/1\.1 403/);
    const refusedPlain = await viaSocket(
      socketPath,
      `GET http://127.0.0.1:${other.port}/x HTTP/1.1\r\nhost: 127.0.0.1:${other.port}\r\nconnection: close\r\n\r\n`,
    );
    expect(refusedPlain).toMatch(/^HTTP\/1\.1 403/);
    expect(other.connections()).toBe(0);
  });
});
