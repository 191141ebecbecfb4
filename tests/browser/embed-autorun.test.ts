import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack";
import { launchChromium, loopbackContext, outputText, serveOnOtherOrigin, waitForMonaco, watchPage, type TestBrowser } from "./browser-support";

/**
 * `autorun=1` runs the widget's code on load only inside a page on an origin listed in EMBED_AUTORUN_ORIGINS;
 * anywhere else (another site, a page that strips its Referer) the widget waits for a click.
 */
describe("embed autorun in a browser", () => {
  let stack: Stack;
  let chromium: TestBrowser;
  type Site = Awaited<ReturnType<typeof serveOnOtherOrigin>>;
  let listed: Site;
  let unlisted: Site;
  /** What the host pages frame: set per test, read when the page is served. */
  let frameHtml = "";

  beforeAll(async () => {
    const host = () => `<!doctype html><html><head><title>Host</title></head><body><h1>A page with a widget</h1>${frameHtml}</body></html>`;
    listed = await serveOnOtherOrigin(host);
    unlisted = await serveOnOtherOrigin(host);
    [stack, chromium] = await Promise.all([
      startStack({ containerRuntime: "runc", webEnv: { EMBED_AUTORUN_ORIGINS: `https://blog.example.com, ${listed.origin}` } }),
      launchChromium(),
    ]);
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await stack?.stop();
    await Promise.all([listed?.close(), unlisted?.close()]);
  });

  /** Runs recorded with this code (the widget's runs go through the server action, so the database knows them all). */
  function runsWithCode(code: string): number {
    const db = new Database(path.join(stack.dataDir, "sandpit.db"), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("select count(*) as n from runs where code = ?").get(code) as { n: number }).n;
    } finally {
      db.close();
    }
  }

  async function openHost(origin: string, iframeAttributes = "") {
    const marker = `autorun-${randomBytes(6).toString("hex")}`;
    const code = `echo ${marker}`;
    const src = `${stack.baseUrl}/embed?runtime=bash&code=${encodeURIComponent(code)}&autorun=1`;
    frameHtml = `<iframe id="widget" src="${src}" ${iframeAttributes} style="width:100%;height:360px"></iframe>`;
    const { context, blocked } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    const watched = watchPage(page);
    await page.goto(origin);
    const widget = page.frameLocator("#widget");
    await widget.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
    return { context, blocked, page, widget, watched, marker, code };
  }

  it("runs on load inside a page on a listed origin", async () => {
    const { context, blocked, widget, marker, code } = await openHost(listed.origin);
    await widget.locator('[data-testid="run-status"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await outputText(widget)).toContain(marker);
    expect(runsWithCode(code)).toBe(1);
    expect(blocked).toEqual([]);
    await context.close();
  }, 120_000);

  it("waits for a click inside a page on an origin that is not listed", async () => {
    const { context, blocked, page, widget, marker, code } = await openHost(unlisted.origin);
    // The widget has hydrated (Monaco is up): an autorun would have called the server action by now.
    await page.waitForTimeout(2000);
    expect(runsWithCode(code)).toBe(0);
    expect(await widget.locator('[data-testid="run-status"]').count()).toBe(0);
    // A click runs it.
    await widget.locator('[data-testid="run"]').click();
    await widget.locator('[data-testid="run-status"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await outputText(widget)).toContain(marker);
    expect(runsWithCode(code)).toBe(1);
    expect(blocked).toEqual([]);
    await context.close();
  }, 120_000);

  it("waits for a click when a listed page's frame sends no Referer (the origin cannot be known)", async () => {
    const { context, page, widget, code } = await openHost(listed.origin, 'referrerpolicy="no-referrer"');
    await page.waitForTimeout(2000);
    expect(runsWithCode(code)).toBe(0);
    expect(await widget.locator('[data-testid="run-status"]').count()).toBe(0);
    await context.close();
  }, 120_000);

  it("waits for a click when the widget is opened directly, not framed", async () => {
    const code = `echo direct-${randomBytes(6).toString("hex")}`;
    const { context } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/embed?runtime=bash&code=${encodeURIComponent(code)}&autorun=1`);
    await waitForMonaco(page);
    await page.waitForTimeout(2000);
    expect(runsWithCode(code)).toBe(0);
    await context.close();
  }, 120_000);
});
