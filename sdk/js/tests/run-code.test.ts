/**
 * One-off runs through the SDK against a real Sandpit (web + worker, warm pool on) and real containers (runc).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../../tests/support/stack.js";
import { Client, runCode, ValidationError } from "../src/index.js";
import { createToken } from "./support.js";

let stack: Stack;
let client: Client;

beforeAll(async () => {
  stack = await startStack({ containerRuntime: "runc" });
  client = new Client({ apiToken: createToken(stack.dataDir), baseUrl: stack.baseUrl });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("runCode", () => {
  it("runs a program in one request and returns its output, exit code and share link", async () => {
    const result = await runCode({ client, runtime: "python", code: "import sys\nprint(sys.stdin.read()[::-1])\nsys.exit(4)", stdin: "olleh" });
    expect(result).toMatchObject({ status: "failed", exitCode: 4, stdout: "hello\n", stderr: "" });
    expect(result.url).toContain(`/r/${result.id}`);
  });

  it("gets a warm container from the pool once the pool has filled", async () => {
    let result = await runCode({ client, runtime: "node", code: "console.log(6 * 7)" });
    for (let attempt = 0; !result.warm && attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      result = await runCode({ client, runtime: "node", code: "console.log(6 * 7)" });
    }
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "42\n", warm: true });
  });

  it("refuses an unknown runtime before sending anything", async () => {
    await expect(runCode({ client, runtime: "cobol" as never, code: "" })).rejects.toBeInstanceOf(ValidationError);
  });
});
