import { z } from "zod";
import { runRequestSchema, type RunLimitSettings } from "@/lib/runs/run-request-schema";
import { fileUploadSchema, sandboxRequestSchema, sandboxRunRequestSchema } from "@/lib/sandboxes/sandbox-request-schema";

/** JSON Schema of what a request may send (zod's input side), from the very schemas that validate it. */
const inputSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

const error = { $ref: "#/components/schemas/Error" };
const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const errors = {
  "400": { description: "Invalid request; `field` names the option at fault", ...json(error) },
  "401": { description: "Missing or invalid API token", ...json(error) },
  "404": { description: "Not found", ...json(error) },
  "410": { description: "Gone: deleted after RUN_RETENTION_DAYS", ...json(error) },
  "429": { description: "Rate limited; see Retry-After", ...json(error) },
};
const fileErrors = {
  "409": { description: "Refused: the path is a symbolic link or not a regular file, or the sandbox is not ready", ...json(error) },
  "413": { description: "The file is larger than the transfer limit", ...json(error) },
  "503": { description: "The platform failed during the transfer; try again (Retry-After)", ...json(error) },
};
const idParam = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });
const waitParam = { name: "wait", in: "query", required: false, schema: { type: "string", enum: ["1"] } };

export function buildOpenApiDocument(limits: RunLimitSettings & { lifetimeMaxS: number }, serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: { title: "Sandpit API", version: "1", description: "Run untrusted code in hardened containers. See docs/sandbox-api.md." },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: { type: "object", properties: { error: { type: "string" }, code: { type: "string" }, field: { type: "string" } }, required: ["error"] },
        RunRequest: inputSchema(runRequestSchema(limits)),
        SandboxRequest: inputSchema(sandboxRequestSchema(limits)),
        SandboxRunRequest: inputSchema(sandboxRunRequestSchema(limits.lifetimeMaxS)),
        FileUpload: inputSchema(fileUploadSchema),
      },
    },
    paths: {
      "/api/v1/runs": {
        post: {
          summary: "Queue a run",
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/RunRequest" }) },
          responses: { "201": { description: "Queued: {id, status, url}" }, "400": errors["400"], "413": { description: "Body over the limit" } },
        },
      },
      "/api/v1/runs/{id}": {
        get: { summary: "A run's result", parameters: [idParam("id"), waitParam], responses: { "200": { description: "The run" }, "404": errors["404"], "410": errors["410"] } },
      },
      "/api/v1/runs/{id}/cancel": {
        post: { summary: "Cancel a run", parameters: [idParam("id")], responses: { "200": { description: "{id, status}" }, "404": errors["404"] } },
      },
      "/api/v1/models": { get: { summary: "Models in the store and GPU availability", responses: { "200": { description: "{models, gpu}" } } } },
      "/api/v1/me": { get: { summary: "Who the token belongs to", security: [{ bearer: [] }], responses: { "200": { description: "{username}" }, "401": errors["401"] } } },
      "/api/v1/health": {
        get: {
          summary: "Live workers and their sandbox boundary",
          security: [{ bearer: [] }],
          responses: { "200": { description: "{workers: [{id, containerRuntime, gvisor: {version, platform, path} | null}]}" }, "401": errors["401"] } },
      },
      "/api/v1/sandboxes": {
        post: {
          summary: "Create a sandbox (answers when it is ready)",
          security: [{ bearer: [] }],
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/SandboxRequest" }) },
          responses: { "201": { description: "The sandbox" }, ...errors },
        },
      },
      "/api/v1/sandboxes/{id}": {
        get: { summary: "A sandbox", security: [{ bearer: [] }], parameters: [idParam("id")], responses: { "200": { description: "The sandbox" }, ...errors } },
        delete: { summary: "Delete a sandbox", security: [{ bearer: [] }], parameters: [idParam("id")], responses: { "200": { description: "The sandbox" }, ...errors } },
      },
      "/api/v1/sandboxes/{id}/runs": {
        post: {
          summary: "Run the sandbox's code (or a command) inside it",
          security: [{ bearer: [] }],
          parameters: [idParam("id"), waitParam],
          requestBody: { required: false, ...json({ $ref: "#/components/schemas/SandboxRunRequest" }) },
          responses: { "201": { description: "{runId} or, with wait, the result" }, ...errors },
        },
      },
      "/api/v1/sandboxes/{id}/runs/{runId}": {
        get: { summary: "A sandbox run's result", security: [{ bearer: [] }], parameters: [idParam("id"), idParam("runId"), waitParam], responses: { "200": { description: "The result" }, ...errors } },
      },
      "/api/v1/sandboxes/{id}/files": {
        post: {
          summary: "Upload a file into the sandbox",
          security: [{ bearer: [] }],
          parameters: [idParam("id")],
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/FileUpload" }) },
          responses: { "201": { description: "{path, size}" }, ...errors, ...fileErrors },
        },
        get: {
          summary: "Download a regular file of the sandbox's /sandbox",
          security: [{ bearer: [] }],
          parameters: [idParam("id"), { name: "path", in: "query", required: true, schema: { type: "string" } }],
          responses: { "200": { description: "{path, size, content} (content in base64)" }, ...errors, ...fileErrors },
        },
      },
    },
  };
}
