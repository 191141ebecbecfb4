import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { actionFailure, serverAction } from "@/lib/actions/action-client";
import { recognizeError } from "@/lib/errors/recognize-error";
import { SandpitError, storageFault, validationError, type SandpitErrorCode } from "@/lib/errors/sandpit-error";
import { apiErrorResponse } from "@/lib/http/api-error";
import { RequirementsRejected, RequirementsUnavailable, sandboxFailureError } from "@/lib/requirements/requirements-errors";

/** Every code, its HTTP status and its server-action form. A new code without a row fails to compile. */
const TABLE = {
  validation: { status: 400, rateLimited: false },
  unauthorized: { status: 401, rateLimited: false },
  forbidden: { status: 403, rateLimited: false },
  not_found: { status: 404, rateLimited: false },
  method_not_allowed: { status: 405, rateLimited: false },
  conflict: { status: 409, rateLimited: false },
  gone: { status: 410, rateLimited: false },
  too_large: { status: 413, rateLimited: false },
  rate_limited: { status: 429, rateLimited: true },
  internal: { status: 500, rateLimited: false },
  unavailable: { status: 503, rateLimited: false },
  insufficient_storage: { status: 507, rateLimited: false },
} satisfies Record<SandpitErrorCode, { status: number; rateLimited: boolean }>;

describe("one mapping per boundary", () => {
  it.each(Object.entries(TABLE) as [SandpitErrorCode, (typeof TABLE)[SandpitErrorCode]][])(
    "%s: HTTP and server-action forms",
    async (code, { status, rateLimited }) => {
      const plain = new SandpitError(code, `message for ${code}`);
      const response = apiErrorResponse(plain);
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ error: `message for ${code}`, code });
      expect(response.headers.get("retry-after")).toBeNull();
      expect(actionFailure(plain)).toEqual({ ok: false, error: `message for ${code}`, code, ...(rateLimited ? { rateLimited: true } : {}) });

      const detailed = new SandpitError(code, "with details", { field: "timeout", retryAfterS: 2.2 });
      const detailedResponse = apiErrorResponse(detailed);
      expect(await detailedResponse.json()).toEqual({ error: "with details", code, field: "timeout" });
      // Retry-After is whole seconds, rounded up; the action result says the same.
      expect(detailedResponse.headers.get("retry-after")).toBe("3");
      expect(actionFailure(detailed)).toMatchObject({ field: "timeout", retryAfterS: 3 });
    },
  );

  it("rounds a sub-second Retry-After up to 1", () => {
    const error = new SandpitError("rate_limited", "soon", { retryAfterS: 0.01 });
    expect(apiErrorResponse(error).headers.get("retry-after")).toBe("1");
    expect(actionFailure(error).retryAfterS).toBe(1);
  });
});

describe("errors made where the fault is known", () => {
  it("a schema failure: every issue in the message, the first one's field", () => {
    const schema = z.object({ a: z.number(), b: z.string() }).strict();
    expect(validationError(schema.safeParse({ a: "x", b: 1 }).error!)).toMatchObject({
      code: "validation",
      details: { field: "a" },
      message: expect.stringMatching(/^a: .*; b: /),
    });
    expect(validationError(schema.safeParse({ a: 1, b: "", extra: 1 }).error!)).toMatchObject({
      details: { field: "extra" },
      message: "unknown field(s): extra",
    });
  });

  it("storage faults are the platform's: busy → unavailable, full → insufficient_storage, others are not storage faults", () => {
    expect(storageFault(Object.assign(new Error("locked"), { code: "SQLITE_BUSY_SNAPSHOT" }))).toMatchObject({
      code: "unavailable",
      details: { retryAfterS: 1 },
    });
    expect(storageFault(Object.assign(new Error("full"), { code: "SQLITE_FULL" }))).toMatchObject({ code: "insufficient_storage" });
    expect(storageFault(Object.assign(new Error("constraint"), { code: "SQLITE_CONSTRAINT" }))).toBeUndefined();
    expect(storageFault(new Error("plain"))).toBeUndefined();
  });

  it("requirements: the installer's refusal is the caller's (400 on requirements), the platform's failure a 503", async () => {
    expect(new RequirementsRejected("no such package")).toMatchObject({ code: "validation", details: { field: "requirements" } });
    expect(new RequirementsUnavailable("engine down").code).toBe("unavailable");
    const rejected = apiErrorResponse(sandboxFailureError({ error: "requirements install failed: no such package", errorKind: "rejected" }));
    expect(rejected.status).toBe(400);
    expect(await rejected.json()).toMatchObject({ field: "requirements" });
    expect(apiErrorResponse(sandboxFailureError({ error: "platform error: engine down", errorKind: "platform" })).status).toBe(503);
  });

  it("anything else a boundary catches is an internal error that tells the client nothing more", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(recognizeError(new Error("secret detail"), "test")).toMatchObject({ code: "internal", message: "internal error" });
      expect(log).toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});

describe("serverAction: the one action client", () => {
  const double = serverAction(z.object({ n: z.number() }), ({ n }) => {
    if (n < 0) throw new SandpitError("rate_limited", "slow down", { retryAfterS: 4 });
    if (n === 0) throw new Error("bug");
    return { doubled: n * 2 };
  });

  it("answers ok with the handler's value", async () => {
    expect(await double({ n: 2 })).toEqual({ ok: true, doubled: 4 });
  });

  it("refuses invalid input, limits and bugs as values, never as exceptions", async () => {
    expect(await double({ n: "2" })).toMatchObject({ ok: false, code: "validation", field: "n" });
    expect(await double({ n: -1 })).toEqual({ ok: false, code: "rate_limited", error: "slow down", rateLimited: true, retryAfterS: 4 });
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await double({ n: 0 })).toEqual({ ok: false, code: "internal", error: "internal error" });
    } finally {
      log.mockRestore();
    }
  });
});
