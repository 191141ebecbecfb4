import type { ContainerEngine } from "../engine/container-engine";

/**
 * Inside a container without a network: 127.0.0.1:PORT piped to a bind-mounted host Unix socket, so tools
 * that speak TCP (pip, npm, the SDKs' HTTP clients) reach the one service behind that socket. Our few lines,
 * run as the container's own user by its image's interpreter.
 */
const NODE_RELAY = `const net = require("net");
net.createServer((c) => { const u = net.connect(process.env.RELAY_SOCKET); c.pipe(u); u.pipe(c);
  c.on("error", () => u.destroy()); u.on("error", () => c.destroy()); })
  .listen(Number(process.env.RELAY_PORT), "127.0.0.1", () => console.log("relay-ready"));`;
const PYTHON_RELAY = `import os, socket, threading
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data: break
            b.sendall(data)
    except OSError: pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(os.environ["RELAY_PORT"]))); server.listen(64)
print("relay-ready", flush=True)
while True:
    client, _ = server.accept()
    upstream = socket.socket(socket.AF_UNIX)
    try: upstream.connect(os.environ["RELAY_SOCKET"])
    except OSError: client.close(); continue
    for a, b in ((client, upstream), (upstream, client)): threading.Thread(target=pipe, args=(a, b), daemon=True).start()
`;

export class RelayEnded extends Error {}

/**
 * `installer`: the image's requirements installer kind (lib/runtimes/runtime-schema.ts), which says which interpreter
 * it has for the relay: pip images have python3, npm images node.
 */
export type RelayOptions = { installer: "pip" | "npm"; port: number; socketPath: string; user: string; workingDir: string };

/** Starts the relay as a detached process in the container and resolves once it listens. */
export async function startSocketRelay(engine: ContainerEngine, containerId: string, options: RelayOptions, signal?: AbortSignal): Promise<void> {
  const env = [`RELAY_PORT=${options.port}`, `RELAY_SOCKET=${options.socketPath}`];
  const cmd = options.installer === "pip" ? ["python3", "-c", PYTHON_RELAY] : ["node", "-e", NODE_RELAY];
  const started = await engine.exec(containerId, { cmd, env, user: options.user, workingDir: options.workingDir });
  started.stdin.end();
  started.stdin.on("error", () => {});
  started.output.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    started.output.on("data", (chunk: Buffer) => {
      seen = (seen + chunk.toString("latin1")).slice(-200);
      if (seen.includes("relay-ready")) {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }
    });
    void started.exited.then(() => reject(new RelayEnded(`the relay ended: ${seen}`)), reject);
  });
}
