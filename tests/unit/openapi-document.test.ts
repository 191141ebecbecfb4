import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "@/lib/openapi/build-openapi-document";

describe("buildOpenApiDocument", () => {
  const document = buildOpenApiDocument(
    { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 2, lifetimeMaxS: 3600 },
    "http://localhost:3000",
  );

  it("describes the request bodies from the validating schemas", () => {
    const run = document.components.schemas.RunRequest as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(run.properties)).toEqual(expect.arrayContaining(["runtime", "code", "stdin", "timeout", "memory", "vcpus", "model"]));
    expect(run.required).toEqual(expect.arrayContaining(["runtime", "code"]));
    const sandbox = document.components.schemas.SandboxRequest as { properties: Record<string, unknown> };
    expect(Object.keys(sandbox.properties)).toEqual(
      expect.arrayContaining([
        "name",
        "language",
        "runtime",
        "code",
        "memory",
        "timeout",
        "vcpus",
        "envVariables",
        "requirements",
        "denoFlags",
        "gpu",
        "model",
      ]),
    );
  });

  it("lists every endpoint", () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/runs",
        "/api/v1/sandboxes",
        "/api/v1/sandboxes/{id}/runs",
        "/api/v1/sandboxes/{id}/files",
        "/api/v1/me",
        "/api/v1/health",
      ]),
    );
  });
});
