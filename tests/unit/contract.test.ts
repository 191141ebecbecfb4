import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "@/lib/openapi/build-openapi-document";
import { renderSdkTypes, SDK_TYPES_PATH } from "@/lib/openapi/render-sdk-types";

const root = path.resolve(import.meta.dirname, "../..");
const limits = { timeoutDefaultS: 10, timeoutMaxS: 300, memoryDefaultMb: 256, memoryMaxMb: 4096, vcpusMax: 2, lifetimeMaxS: 3600 };

type Operation = { responses: Record<string, { content?: { "application/json": { schema: unknown } } }> };

describe("one contract", () => {
  it("keeps the TypeScript SDK's generated types in step with the server's schemas (run `npm run contract`)", async () => {
    const checkedIn = readFileSync(path.join(root, SDK_TYPES_PATH), "utf8");
    expect(checkedIn === (await renderSdkTypes()), `${SDK_TYPES_PATH} is stale: run \`npm run contract\` and commit it`).toBe(true);
  });

  it("describes every answer of every operation with a schema", () => {
    const document = buildOpenApiDocument(limits, "http://localhost:3000");
    const undescribed: string[] = [];
    for (const [template, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods as Record<string, Operation>)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!response.content?.["application/json"]?.schema) undescribed.push(`${method.toUpperCase()} ${template} ${status}`);
        }
      }
    }
    expect(undescribed).toEqual([]);
  });

  it("resolves every $ref of the document", () => {
    const document = buildOpenApiDocument(limits, "http://localhost:3000");
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]);
    expect(refs.length).toBeGreaterThan(20);
    for (const id of new Set(refs)) expect(document.components.schemas, id).toHaveProperty(id);
  });
});
