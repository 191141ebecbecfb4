import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postRun } from "../support/api-client";
import { startStack, type Stack } from "../support/stack";

describe("bad requests", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ containerRuntime: "runc" });
  }, 120_000);
  afterAll(async () => stack?.stop());

  const cases: [string, unknown, RegExp][] = [
    ["unknown runtime", { runtime: "cobol", code: "x" }, /unknown runtime "cobol"/],
    ["missing runtime", { code: "x" }, /runtime is required/],
    ["missing code", { runtime: "python" }, /code is required/],
    ["empty code", { runtime: "python", code: "" }, /code must not be empty/],
    ["negative timeout", { runtime: "python", code: "x", timeout: -1 }, /timeout must be positive/],
    ["timeout over the max", { runtime: "python", code: "x", timeout: 301 }, /timeout must be at most 300/],
    ["timeout as text", { runtime: "python", code: "x", timeout: "ten" }, /timeout must be a number/],
    ["memory nonsense", { runtime: "python", code: "x", memory: "lots" }, /memory "lots" is not like/],
    ["memory too large", { runtime: "python", code: "x", memory: "64GB" }, /memory must be between/],
    ["memory too small", { runtime: "python", code: "x", memory: 1 }, /memory must be between/],
    ["unknown field", { runtime: "python", code: "x", network: true }, /unknown field\(s\): network/],
    ["not an object", [1, 2, 3], /expected object|Invalid input/i],
    ["invalid JSON", "{not json", /not valid JSON/],
  ];

  it.each(cases)("%s → 400 with a message", async (_name, body, message) => {
    const response = await postRun(stack.baseUrl, body);
    expect(response.status).toBe(400);
    expect(response.json.error).toMatch(message);
  });

  it("refuses a body over 1 MiB with 413", async () => {
    const response = await postRun(stack.baseUrl, { runtime: "python", code: "#" + "x".repeat(1024 * 1024) });
    expect(response.status).toBe(413);
    expect(response.json.error).toMatch(/over the 1048576-byte limit/);
  });

  it("answers 404 for an unknown run", async () => {
    const response = await fetch(`${stack.baseUrl}/api/v1/runs/AAAAAAAAAAAAAAAAAAAAAA`);
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatch(/no run with id/);
    const cancel = await fetch(`${stack.baseUrl}/api/v1/runs/AAAAAAAAAAAAAAAAAAAAAA/cancel`, { method: "POST" });
    expect(cancel.status).toBe(404);
  });

  it("accepts the documented memory and timeout forms", async () => {
    for (const memory of ["512MB", "1GB", "256Mi", 300]) {
      const response = await postRun(stack.baseUrl, { runtime: "bash", code: "true", memory, timeout: 5 });
      expect(response.status, JSON.stringify(response.json)).toBe(201);
      expect(response.json.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(response.json.url).toBe(`${stack.baseUrl}/r/${response.json.id}`);
    }
  });
});
