import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { compressCodeForUrl } from "@/lib/embed/url-code";
import { startStack, type Stack } from "../support/stack";
import {
  launchChromium,
  loopbackContext,
  monacoText,
  outputText,
  screenshotPath,
  serveOnOtherOrigin,
  typeIntoMonaco,
  waitForMonaco,
  watchPage,
  type Page,
  type TestBrowser,
} from "./browser-support";

/** On failure: a screenshot and the console's text in the temp folder, to see what the browser saw. */
function captureOnFailure(page: Page) {
  onTestFailed(async ({ task }) => {
    const name = task.name.replace(/\W+/g, "-").slice(0, 60);
    await page.screenshot({ path: path.join(os.tmpdir(), `sandpit-failed-${name}.png`) }).catch(() => {});
    const output = await page
      .locator('[data-testid="output"]')
      .innerText()
      .catch(() => "(no output element)");
    const runId = new URL(page.url()).searchParams.get("run");
    const api = runId
      ? await fetch(new URL(`/api/v1/runs/${runId}`, page.url()))
          .then((response) => response.text())
          .catch(String)
      : "";
    writeFileSync(path.join(os.tmpdir(), `sandpit-failed-${name}.txt`), `${page.url()}\n${output}\n${api}`);
  });
}

const statusOf = (page: Page) => page.locator('[data-testid="run-status"]').getAttribute("data-status");

async function waitForStatus(page: Page, statuses: string[], timeout = 60_000) {
  await page.waitForFunction((wanted) => wanted.includes(document.querySelector('[data-testid="run-status"]')?.getAttribute("data-status") ?? ""), statuses, {
    timeout,
  });
}

async function openPlayground(page: Page, baseUrl: string, path = "/") {
  await page.goto(`${baseUrl}${path}`);
  await waitForMonaco(page);
}

describe("playground in a browser", () => {
  let stack: Stack;
  let chromium: TestBrowser;

  beforeAll(async () => {
    [stack, chromium] = await Promise.all([
      startStack({ containerRuntime: "runc", webEnv: { EMBED_RATE_LIMIT_BURST: "2", EMBED_RATE_LIMIT_PER_MINUTE: "1" } }),
      launchChromium(),
    ]);
  }, 180_000);

  afterAll(async () => {
    if (stack) writeFileSync(path.join(os.tmpdir(), "sandpit-browser-stack.log"), stack.logs());
    await chromium?.close();
    await stack?.stop();
  });

  it("runs code typed into Monaco with Ctrl+Enter and streams output before the run ends", async () => {
    const { context, blocked } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    captureOnFailure(page);
    const watched = watchPage(page);
    await openPlayground(page, stack.baseUrl);
    await page.locator('[data-testid="runtime"]').selectOption("python");
    await typeIntoMonaco(
      page,
      "import sys, time\nprint('first', flush=True)\nprint('to stderr', file=sys.stderr, flush=True)\ntime.sleep(1.5)\nprint(\"second\")\n",
    );
    await expect.poll(() => monacoText(page)).toContain('print("second")');
    // Monaco's editor worker is a bundled script of this origin, and it loads under the CSP.
    const workerStarted = page.waitForEvent("worker", { timeout: 10_000 });
    const workerOutcome = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const environment = (globalThis as unknown as { MonacoEnvironment: { getWorker(id: string, label: string): Worker } }).MonacoEnvironment;
          const worker = environment.getWorker("probe", "editorWorkerService");
          worker.onerror = () => resolve("error");
          setTimeout(() => resolve("loaded"), 1500);
        }),
    );
    expect(workerOutcome).toBe("loaded");
    expect((await workerStarted).url()).toMatch(new RegExp(`^${stack.baseUrl}/_next/static/`));
    await page.keyboard.press("Control+Enter");

    await page.locator('[data-testid="output"]', { hasText: "first" }).waitFor({ timeout: 60_000 });
    // "first" is on screen while the program is still sleeping.
    expect(await statusOf(page)).toBe("running");
    expect(await outputText(page)).not.toContain("second");

    await waitForStatus(page, ["succeeded"]);
    const output = await outputText(page);
    expect(output.indexOf("first")).toBeLessThan(output.indexOf("second"));
    expect(await page.locator('[data-stream="stderr"]').innerText()).toBe("to stderr");
    expect(await page.locator('[data-testid="exit-code"]').innerText()).toBe("0");
    expect(await page.locator('[data-testid="duration"]').innerText()).toMatch(/\d/);
    expect(await page.locator('[data-testid="first-output"]').innerText()).toMatch(/\d/);
    // The run id is in the URL, so a reload resumes this console.
    expect(new URL(page.url()).searchParams.get("run")).toMatch(/\w+/);
    await page.reload();
    await page.locator('[data-testid="output"]', { hasText: "second" }).waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid="recent-runs"] li').count()).toBeGreaterThanOrEqual(1);
    expect(watched.dialogs).toEqual([]);
    expect(blocked).toEqual([]);
    // Monaco's worker (no main-thread fallback), Next's scripts and the websocket all live within the CSP.
    expect(watched.errors.filter((error) => /Content Security Policy|Refused to|web worker/i.test(error))).toEqual([]);
    await context.close();
  }, 180_000);

  it("cancels a long run", async () => {
    const { context } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    captureOnFailure(page);
    await openPlayground(page, stack.baseUrl);
    await page.locator('[data-testid="runtime"]').selectOption("bash");
    await typeIntoMonaco(page, "echo started\nsleep 60\necho never\n");
    await page.locator('[data-testid="run"]').click();
    await page.locator('[data-testid="output"]', { hasText: "started" }).waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="cancel"]').click();
    await waitForStatus(page, ["cancelled"], 30_000);
    expect(await outputText(page)).not.toContain("never");
    await context.close();
  }, 180_000);

  it("shows output that looks like HTML as text, and renders ANSI colours as styles", async () => {
    const { context } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    captureOnFailure(page);
    const watched = watchPage(page);
    await openPlayground(page, stack.baseUrl);
    await page.locator('[data-testid="runtime"]').selectOption("bash");
    await typeIntoMonaco(
      page,
      "echo '<img src=x onerror=alert(1)>'\necho '<script>alert(2)</script><b>not bold</b>'\nprintf '\\033[31mred\\033[0m plain \\033[1;32mbold green\\033[0m\\n'\nprintf '\\033[38;5;208morange\\033[0m\\n' >&2\n",
    );
    await page.keyboard.press("Control+Enter");
    await waitForStatus(page, ["succeeded"]);
    const output = page.locator('[data-testid="output"]');
    const text = await outputText(page);
    expect(text).toContain("<img src=x onerror=alert(1)>");
    expect(text).toContain("<script>alert(2)</script><b>not bold</b>");
    expect(await output.locator("img, script, b").count()).toBe(0);
    // Colours: styles on spans, no escape bytes left in the text.
    expect(text).not.toContain("\x1b");
    expect(await output.getByText("red", { exact: true }).evaluate((span) => getComputedStyle(span).color)).toMatch(/rgb\(\d+, \d+, \d+\)/);
    expect(await output.getByText("bold green", { exact: true }).evaluate((span) => getComputedStyle(span).fontWeight)).toBe("700");
    expect(await output.getByText("orange", { exact: true }).getAttribute("style")).toContain("rgb(255,135,0)".replace(/,/g, ", "));
    await page.waitForTimeout(500);
    expect(watched.dialogs).toEqual([]);
    await page.screenshot({ path: screenshotPath("playground.png") });
    await context.close();
  }, 180_000);

  it("keeps the page responsive with 100k lines of output", async () => {
    const { context } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    captureOnFailure(page);
    await openPlayground(page, stack.baseUrl);
    await page.locator('[data-testid="runtime"]').selectOption("python");
    await typeIntoMonaco(page, "for i in range(100000):\n    print(i)\n");
    await page.keyboard.press("Control+Enter");
    await waitForStatus(page, ["succeeded", "failed"], 90_000);
    // The main thread answers quickly, and only the rows in view exist in the DOM.
    const started = Date.now();
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await page.locator(".console-row").count()).toBeLessThan(300);
    await page.locator('[data-testid="output"]', { hasText: "99999" }).waitFor({ timeout: 10_000 });

    // Past the output cap: the console says so.
    await page.locator('[data-testid="runtime"]').selectOption("bash");
    await typeIntoMonaco(page, "yes 'more output than allowed' | head -c 3000000\n");
    await page.keyboard.press("Control+Enter");
    await page.locator('[data-testid="marker-truncated"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-testid="run-status"]').innerText()).toContain("truncated");
    await context.close();
  }, 180_000);

  it("shares a run: a fresh browser sees the transcript, and can fork it into the playground", async () => {
    const { context } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    captureOnFailure(page);
    await openPlayground(page, stack.baseUrl);
    await page.locator('[data-testid="runtime"]').selectOption("python");
    const code = "import sys\nname = sys.stdin.read().strip()\nprint(f'Hello, {name}!')\nprint('\\033[36mcolourful\\033[0m done')\n";
    await typeIntoMonaco(page, code);
    await page.locator('[data-testid="stdin"]').fill("shared world");
    await page.keyboard.press("Control+Enter");
    await waitForStatus(page, ["succeeded"]);
    await page.locator('[data-testid="share"]').click();
    const shareUrl = await page.locator('[data-testid="share-url"]').inputValue();
    expect(shareUrl).toMatch(new RegExp(`^${stack.baseUrl}/r/[\\w-]{16,}$`));
    expect(await page.locator('[data-testid="embed-snippet"]').inputValue()).toMatch(/^<iframe src="http:\/\/127\.0\.0\.1:\d+\/embed\/[\w-]+"/);
    await context.close();

    const fresh = await loopbackContext(chromium.browser);
    const reader = await fresh.context.newPage();
    const response = await reader.goto(shareUrl);
    expect(response?.status()).toBe(200);
    await waitForMonaco(reader, "shared-code");
    await expect.poll(() => monacoText(reader, "shared-code")).toContain("print(f'Hello, {name}!')");
    expect(await outputText(reader)).toContain("Hello, shared world!");
    expect(await outputText(reader)).toContain("colourful done");
    expect(await reader.locator('[data-testid="status"]').innerText()).toBe("Succeeded");
    expect(await reader.locator('[data-testid="shared-runtime"]').innerText()).toBe("Python 3.11");
    expect(await reader.locator('meta[property="og:title"]').getAttribute("content")).toMatch(/Python 3\.11 run succeeded/);
    expect(await reader.locator('meta[property="og:description"]').getAttribute("content")).toContain("Hello, shared world!");
    await reader.screenshot({ path: screenshotPath("share-page.png"), fullPage: true });

    await reader.locator('[data-testid="fork"]').click();
    await reader.waitForURL((url) => url.pathname === "/");
    await waitForMonaco(reader);
    await expect.poll(() => monacoText(reader)).toContain("print(f'Hello, {name}!')");
    expect(await reader.locator('[data-testid="stdin"]').inputValue()).toBe("shared world");
    await reader.keyboard.press("Control+Enter");
    await waitForStatus(reader, ["succeeded"]);
    expect(await outputText(reader)).toContain("Hello, shared world!");
    await fresh.context.close();
  }, 180_000);

  it("runs code inside the widget embedded on another origin, and rate-limits embed runs", async () => {
    const code = "import time\nprint('from the widget', flush=True)\ntime.sleep(0.5)\nprint('sum =', sum(range(10)))\n";
    const src = `${stack.baseUrl}/embed?runtime=python&c=${await compressCodeForUrl(code)}`;
    const site = await serveOnOtherOrigin(
      () => `<!doctype html><html><head><title>Blog post</title></head>
<body style="font-family:sans-serif;max-width:720px;margin:24px auto;padding:0 16px">
<h1>A blog post on 127.0.0.2</h1><p>Try the code below:</p>
<iframe id="widget" src="${src}" title="Sandpit" style="width:100%;height:360px;border:1px solid #ccc;border-radius:8px"></iframe>
<script>
window.heights = [];
addEventListener("message", (event) => {
  if (event.data && event.data.type === "sandpit:height") {
    window.heights.push(event.data.height);
    document.getElementById("widget").style.height = event.data.height + "px";
  }
});
</script></body></html>`,
    );
    try {
      const { context, blocked } = await loopbackContext(chromium.browser);
      const page = await context.newPage();
      captureOnFailure(page);
      const watched = watchPage(page);
      await page.goto(site.origin);
      const widget = page.frameLocator("#widget");
      await widget
        .locator('[data-testid="editor"] .monaco-editor')
        .waitFor({ timeout: 30_000 })
        .catch((error) => {
          throw new Error(`${error}\n${watched.errors.join("\n")}`);
        });
      await widget.locator('[data-testid="run"]').click();
      await widget.locator('[data-testid="run-status"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
      expect(await outputText(widget)).toContain("from the widget");
      expect(await outputText(widget)).toContain("sum = 45");
      const heights = await page.evaluate(() => (window as unknown as { heights: number[] }).heights);
      expect(heights.length).toBeGreaterThan(0);
      expect(heights.at(-1)).toBeGreaterThan(200);
      await page.screenshot({ path: screenshotPath("embed-widget.png") });

      // Embed runs have their own small budget here (2, then 1 a minute): the third is refused with a clear message.
      await widget.locator('[data-testid="run"]').click();
      await widget.locator('[data-testid="run-status"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
      await widget.locator('[data-testid="run"]').click();
      await widget.locator('[data-testid="error"]', { hasText: /Too many runs/ }).waitFor({ timeout: 20_000 });
      expect(watched.dialogs).toEqual([]);
      expect(blocked).toEqual([]);
      await context.close();
    } finally {
      await site.close();
    }
  }, 180_000);

  it("is usable at 375 px wide, in the dark theme too", async () => {
    const { context } = await loopbackContext(chromium.browser, { viewport: { width: 375, height: 812 }, colorScheme: "dark" });
    const page = await context.newPage();
    captureOnFailure(page);
    await openPlayground(page, stack.baseUrl);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(await page.locator('[data-testid="editor"] .monaco-editor').evaluate((editor) => editor.classList.contains("vs-dark"))).toBe(true);
    await page.locator('[data-testid="runtime"]').selectOption("bash");
    await typeIntoMonaco(page, "for i in 1 2 3 4 5 6; do echo -e \\\\e[3${i}m colour 3$i \\\\e[0m; done\necho oops >&2\n");
    await page.locator('[data-testid="run"]').click();
    await waitForStatus(page, ["succeeded"]);
    expect(await outputText(page)).toContain("colour 36");
    await page.screenshot({ path: screenshotPath("playground-mobile-dark.png"), fullPage: true });
    await context.close();
  }, 120_000);

  it("refuses to let another origin frame a normal page", async () => {
    const headers = (await fetch(`${stack.baseUrl}/`)).headers;
    expect(headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(headers.get("x-frame-options")).toBe("DENY");
    const embedHeaders = (await fetch(`${stack.baseUrl}/embed?runtime=bash&code=echo%20hi`)).headers;
    expect(embedHeaders.get("content-security-policy")).toContain("frame-ancestors *");
    expect(embedHeaders.get("x-frame-options")).toBeNull();

    const site = await serveOnOtherOrigin(
      () => `<!doctype html><title>Framer</title><iframe id="victim" src="${stack.baseUrl}/" style="width:800px;height:600px"></iframe>`,
    );
    try {
      const { context } = await loopbackContext(chromium.browser);
      const page = await context.newPage();
      captureOnFailure(page);
      const refused = page
        .waitForEvent("console", { predicate: (message) => /frame-ancestors|Refused to (display|frame)/i.test(message.text()), timeout: 15_000 })
        .catch(() => null);
      await page.goto(site.origin);
      await refused;
      await page.waitForTimeout(1000);
      const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
      expect(frame).toBeDefined();
      const rendered = await frame!.evaluate(() => document.querySelector('[data-testid="run"]') !== null).catch(() => false);
      expect(rendered).toBe(false);
      await context.close();
    } finally {
      await site.close();
    }
  }, 120_000);
});
