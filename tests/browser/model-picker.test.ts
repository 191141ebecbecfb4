import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokens } from "../support/create-token";
import { manifestOf, sendMissing, storeApi, type LocalFile } from "../support/model-upload";
import { startStack, type Stack } from "../support/stack";
import { launchChromium, loopbackContext, monacoText, outputText, waitForMonaco, watchPage, type TestBrowser } from "./browser-support";

/**
 * The playground's model picker with the store (README "Model store"): a tiny model in Hugging Face layout, made
 * here and uploaded through the API, is listed with its size; picking it puts the runtime's model snippet in the
 * editor, and the run (sent with `model`) reads the folder at MODEL_PATH.
 */
describe("playground model picker in a browser", () => {
  let stack: Stack;
  let chromium: TestBrowser;
  const marker = randomBytes(6).toString("hex");
  const files: LocalFile[] = [
    { path: "config.json", bytes: Buffer.from(JSON.stringify({ model_type: "gpt2", architectures: [`Tiny${marker}`], n_layer: 1 })) },
    { path: "model.safetensors", bytes: randomBytes(5000) },
  ];
  const totalBytes = files.reduce((sum, file) => sum + file.bytes.length, 0);

  beforeAll(async () => {
    [stack, chromium] = await Promise.all([startStack({ containerRuntime: "runc" }), launchChromium()]);
    const [token] = await createTokens(stack.dataDir, ["picker"]);
    const manifest = manifestOf("org/tiny-picker", files);
    const plan = await storeApi(stack.baseUrl, token, "POST", "/uploads", manifest);
    expect(plan.status).toBe(200);
    await sendMissing(stack.baseUrl, token, files, plan.json);
    expect((await storeApi(stack.baseUrl, token, "POST", "/commits", manifest)).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    if (stack) writeFileSync(path.join(os.tmpdir(), "sandpit-browser-model-stack.log"), stack.logs());
    await chromium?.close();
    await stack?.stop();
  });

  it("lists the store's models with sizes, inserts the snippet for the chosen one, and runs it against MODEL_PATH", async () => {
    const listed = (await (await fetch(`${stack.baseUrl}/api/v1/models`)).json()) as { models: { name: string; sizeBytes: number }[] };
    expect(listed.models).toContainEqual(expect.objectContaining({ name: "org/tiny-picker", sizeBytes: totalBytes }));

    const { context, blocked } = await loopbackContext(chromium.browser);
    const page = await context.newPage();
    const watched = watchPage(page);
    await page.goto(`${stack.baseUrl}/`);
    await waitForMonaco(page);
    await page.locator('[data-testid="runtime"]').selectOption("python");

    const picker = page.locator('[data-testid="model"]');
    // The same sizes as GET /api/v1/models, in the picker's units.
    expect(await picker.locator('option[value="org/tiny-picker"]').innerText()).toBe(`org/tiny-picker (${(totalBytes / 1024).toFixed(1)} KB)`);
    await picker.selectOption("org/tiny-picker");
    await expect.poll(() => monacoText(page)).toContain('os.environ["MODEL_PATH"]');
    expect(await page.locator('[data-testid="model-help"]').innerText()).toContain("/models/org/tiny-picker");

    await page.locator('[data-testid="run"]').click();
    await page.waitForFunction(
      () => ["succeeded", "failed", "error", "timed_out"].includes(document.querySelector('[data-testid="run-status"]')?.getAttribute("data-status") ?? ""),
      undefined,
      { timeout: 90_000 },
    );
    // MODEL_PATH and the mount exist only when the run was sent with `model`.
    const output = await outputText(page);
    expect(output).toContain("model folder: /models/org/tiny-picker");
    expect(output).toContain("model.safetensors: 5000 bytes");
    expect(output).toContain(`Tiny${marker}`);
    expect(await page.locator('[data-testid="run-status"]').getAttribute("data-status")).toBe("succeeded");

    expect(watched.dialogs).toEqual([]);
    expect(blocked).toEqual([]);
    await context.close();
  }, 180_000);
});
