import { mkdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/** Debian's Chromium (scripts/ensure-chromium.sh), headless; never a downloaded browser build. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../docs/screenshots");

export type TestBrowser = { browser: Browser; close(): Promise<void> };

/**
 * Playwright launches Chromium with a fresh temporary --user-data-dir of its own (and refuses one passed in
 * args), so every launch starts from an empty profile.
 */
export async function launchChromium(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** A fresh context whose traffic may only go to loopback addresses; anything else is aborted and recorded. */
export async function loopbackContext(browser: Browser, options: Parameters<Browser["newContext"]>[0] = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    const loopback = /^127\.\d+\.\d+\.\d+$/.test(url.hostname) || url.protocol === "data:" || url.protocol === "blob:";
    if (loopback) return route.continue();
    blocked.push(url.toString());
    return route.abort();
  });
  return { context, blocked };
}

/** Records alerts/confirms (none should fire), page errors and console errors/warnings. */
export function watchPage(page: Page) {
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") errors.push(message.text());
  });
  return { dialogs, errors };
}

/** Waits until Monaco has replaced the placeholder inside `scope`'s editor. */
export async function waitForMonaco(page: Page, editorTestId = "editor") {
  await page.locator(`[data-testid="${editorTestId}"] .monaco-editor`).waitFor({ timeout: 30_000 });
}

/** The text Monaco shows (its DOM renders spaces as U+00A0). */
export async function monacoText(page: Page, editorTestId = "editor"): Promise<string> {
  const text = await page.locator(`[data-testid="${editorTestId}"] .view-lines`).innerText();
  return text.replace(/\u00a0/g, " ");
}

/** Replaces the editor's content the way a user does: focus, select all, then type. */
export async function typeIntoMonaco(page: Page, code: string, editorTestId = "editor") {
  await page.locator(`[data-testid="${editorTestId}"] .view-lines`).click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(code);
  // Monaco may auto-close brackets and quotes as the text arrives; those closers pile up after the cursor.
  await page.keyboard.press("ControlOrMeta+Shift+End");
  await page.keyboard.press("Delete");
}

export async function outputText(page: Page | ReturnType<Page["frameLocator"]>): Promise<string> {
  return (await page.locator('[data-testid="output"]').innerText()).replace(/\u00a0/g, " ");
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, name);
}

/** A tiny site on another loopback origin (127.0.0.2) that serves the given HTML. */
export async function serveOnOtherOrigin(html: () => string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(html());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.2", () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.2:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export type { Browser, BrowserContext, Page };
