import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CPUSandbox, Sandpit } from "../../sdk/js/src/index";
import { createToken } from "../../sdk/js/tests/support";
import { launchChromium, loopbackContext, outputText, type TestBrowser } from "../browser/browser-support";
import { getRun, postRun } from "../support/api-client";
import { waitUntil } from "../support/docker-probe";
import { CONTAINER_RUNTIMES } from "../support/runtimes-under-test";
import { startStack, type Stack } from "../support/stack";

/**
 * The web server restarts (stopped, then started again on the same port) while a Socket.IO client,
 * the TypeScript SDK and a browser on the share page follow runs that print numbered lines slowly.
 * Each must end with every line exactly once, in order, and the database with every chunk.
 * Under both container runtimes: the run goes on in its container while the web server is away.
 */
const LINES = 40;
const program = (prefix: string) => `for i in $(seq 1 ${LINES}); do echo ${prefix}-$i; sleep 0.2; done`;
const expected = (prefix: string) => Array.from({ length: LINES }, (_, index) => `${prefix}-${index + 1}\n`).join("");

type Received = { seqs: number[]; text: string; ended: boolean; connects: number };

/** A raw Socket.IO follower with the resume logic every client needs: resubscribe after the last seq it has. */
function follow(baseUrl: string, runId: string): { received: Received; socket: Socket } {
  const received: Received = { seqs: [], text: "", ended: false, connects: 0 };
  let lastSeq = -1;
  const socket = io(baseUrl, { transports: ["websocket"], reconnectionDelay: 200, reconnectionDelayMax: 1000 });
  socket.on("connect", () => {
    received.connects++;
    socket.emit("run:subscribe", { runId, afterSeq: lastSeq });
  });
  socket.on("run:event", (event: { type: string; runId: string; seq?: number; data?: string }) => {
    if (event.runId !== runId) return;
    if (event.type === "chunk") {
      if (event.seq! <= lastSeq) return; // the server may send a chunk twice around a subscribe
      lastSeq = event.seq!;
      received.seqs.push(event.seq!);
      received.text += event.data;
    } else if (event.type === "end") received.ended = true;
  });
  return { received, socket };
}

describe.each(CONTAINER_RUNTIMES)("web server restarted while clients stream, under %s", (containerRuntime) => {
  let stack: Stack;
  let browser: TestBrowser;
  let token: string;
  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack({ containerRuntime }), launchChromium()]);
    token = createToken(stack.dataDir, "restart-test");
    await Sandpit({ apiToken: token, baseUrl: stack.baseUrl });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("delivers every line exactly once, in order, to a socket client, the SDK and the share page", async () => {
    const sandbox = await CPUSandbox.create({ name: "restart-stream", runtime: "bash", code: program("sdk"), timeout: 120 });
    try {
      const created = await postRun(stack.baseUrl, { runtime: "bash", code: program("line"), timeout: 60 });
      expect(created.status).toBe(201);
      const runId = created.json.id as string;

      const { received, socket } = follow(stack.baseUrl, runId);
      const { context } = await loopbackContext(browser.browser);
      const page = await context.newPage();
      await page.goto(`${stack.baseUrl}/r/${runId}`);

      let sdkText = "";
      const sdkRun = sandbox.run(undefined, { onStdout: (data) => void (sdkText += data) });

      // Restart once every client has some of its output, well before the programs end.
      const allStreaming = await waitUntil(
        async () => received.text.includes("line-3\n") && sdkText.includes("sdk-3\n") && (await outputText(page)).includes("line-3"),
        60_000,
        100,
      );
      expect(allStreaming, `socket: ${received.text.length} sdk: ${sdkText.length}\n${stack.logs().slice(-2000)}`).toBe(true);
      await stack.restartWeb();
      expect((await getRun(stack.baseUrl, runId)).status).not.toBe("queued");

      const result = await sdkRun;
      expect(await waitUntil(() => received.ended, 60_000)).toBe(true);
      socket.close();

      expect(received.connects).toBeGreaterThanOrEqual(2); // it did lose the server and come back
      expect(received.text).toBe(expected("line"));
      expect(received.seqs).toEqual(received.seqs.map((_, index) => index));
      expect(sdkText).toBe(expected("sdk"));
      expect(result.stdout).toBe(expected("sdk"));
      // The share page resumes on its own.
      expect(await waitUntil(async () => (await outputText(page)).includes(`line-${LINES}`), 60_000, 200)).toBe(true);
      const pageLines = (await outputText(page)).split("\n").filter((line) => /^line-\d+$/.test(line.trim()));
      expect(pageLines.map((line) => line.trim())).toEqual(expected("line").trim().split("\n"));
      await context.close();

      // The database has every chunk too.
      const stored = await getRun(stack.baseUrl, runId);
      expect(stored).toMatchObject({ status: "succeeded", stdout: expected("line") });
    } finally {
      await sandbox.delete();
    }
  }, 240_000);
});
