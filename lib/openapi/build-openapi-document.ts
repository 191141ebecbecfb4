import { z } from "zod";
import { whoAmISchema } from "@/lib/auth/api-tokens";
import { modelEntrySchema } from "@/lib/models/list-models";
import {
  CHANNELS,
  runChunkEventSchema,
  runEndEventSchema,
  runEventSchema,
  runStartedEventSchema,
  subscribeReplySchema,
  subscribeRequestSchema,
} from "@/lib/realtime/events";
import { runRequestSchema, type RunLimitSettings } from "@/lib/runs/run-request-schema";
import { cancelledRunSchema, createdRunSchema, finishedRunSchema, runViewSchema } from "@/lib/runs/run-view";
import { fileUploadSchema, sandboxRequestSchema, sandboxRunRequestSchema } from "@/lib/sandboxes/sandbox-request-schema";
import { fileDownloadedSchema, fileUploadedSchema, sandboxRunResultSchema, sandboxRunStartedSchema, sandboxViewSchema } from "@/lib/sandboxes/sandbox-view";
import { gpuAvailabilitySchema } from "@/lib/workers/gpu-availability";
import { liveWorkerSchema } from "@/lib/workers/worker-registry";

/** The body of every error answer (`lib/http/api-error.ts`). */
const errorBodySchema = z.object({
  error: z.string().describe("What went wrong, in one sentence."),
  code: z.string().optional().describe("Machine-readable: validation, not_found, conflict, rate_limited, …"),
  field: z.string().optional().describe("The request field at fault (validation errors)."),
});

/**
 * JSON Schemas for `components.schemas`, from the very zod schemas that validate requests (`io: "input"`) or
 * type the server's answers (`io: "output"`). A schema met again inside another becomes a `$ref`.
 */
function componentSchemas(schemas: Record<string, z.ZodType>, io: "input" | "output"): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: generated } = z.toJSONSchema(registry, {
    io,
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
    // zod's date-time regex says nothing `format` does not.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
    },
  });
  return Object.fromEntries(Object.entries(generated).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]));
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const error = ref("ErrorBody");
const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const answer = (description: string, id: string) => ({ description, ...json(ref(id)) });
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
        ...componentSchemas(
          {
            RunRequest: runRequestSchema(limits),
            SandboxRequest: sandboxRequestSchema(limits),
            SandboxRunRequest: sandboxRunRequestSchema(limits.lifetimeMaxS),
            FileUpload: fileUploadSchema,
            SubscribeRequest: subscribeRequestSchema,
          },
          "input",
        ),
        ...componentSchemas(
          {
            ErrorBody: errorBodySchema,
            RunView: runViewSchema,
            CreatedRun: createdRunSchema,
            FinishedRun: finishedRunSchema,
            CancelledRun: cancelledRunSchema,
            Sandbox: sandboxViewSchema,
            SandboxRunResult: sandboxRunResultSchema,
            SandboxRunStarted: sandboxRunStartedSchema,
            FileUploaded: fileUploadedSchema,
            FileDownloaded: fileDownloadedSchema,
            WhoAmI: whoAmISchema,
            Health: z.object({ workers: z.array(liveWorkerSchema) }),
            Models: z.object({ models: z.array(modelEntrySchema), modelsDir: z.string(), gpu: gpuAvailabilitySchema }),
            RunChunkEvent: runChunkEventSchema,
            RunStartedEvent: runStartedEventSchema,
            RunEndEvent: runEndEventSchema,
            RunEvent: runEventSchema,
            SubscribeReply: subscribeReplySchema,
          },
          "output",
        ),
      },
    },
    /** The Socket.IO side of the contract (not OpenAPI proper): which events carry which schema. */
    "x-socket-io": {
      path: "/socket.io",
      clientToServer: {
        [CHANNELS.subscribe]: {
          payload: ref("SubscribeRequest"),
          ack: ref("SubscribeReply"),
          description: "Join a run's room, replaying every chunk after afterSeq",
        },
        [CHANNELS.unsubscribe]: { payload: ref("SubscribeRequest"), description: "Leave a run's room" },
      },
      serverToClient: {
        [CHANNELS.runEvent]: { payload: ref("RunEvent"), description: "A chunk of output, the start or the end of a subscribed run" },
      },
    },
    paths: {
      "/api/v1/runs": {
        post: {
          summary: "Queue a run",
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/RunRequest" }) },
          responses: {
            "201": {
              description: "Queued (`CreatedRun`), or with `?wait=1` the ended run (`FinishedRun`); still `queued` when the wait ran out",
              ...json({ oneOf: [ref("CreatedRun"), ref("FinishedRun")] }),
            },
            "400": errors["400"],
            "413": { description: "Body over the limit", ...json(error) },
            "429": errors["429"],
          },
        },
      },
      "/api/v1/runs/{id}": {
        get: {
          summary: "A run's result",
          parameters: [idParam("id"), waitParam],
          responses: { "200": answer("The run", "RunView"), "404": errors["404"], "410": errors["410"] },
        },
      },
      "/api/v1/runs/{id}/cancel": {
        post: {
          summary: "Cancel a run",
          parameters: [idParam("id")],
          responses: { "200": answer("The run's status after the cancel", "CancelledRun"), "404": errors["404"] },
        },
      },
      "/api/v1/models": { get: { summary: "Models in the store and GPU availability", responses: { "200": answer("Models and GPU availability", "Models") } } },
      "/api/v1/me": {
        get: {
          summary: "Who the token belongs to",
          security: [{ bearer: [] }],
          responses: { "200": answer("The token's name and id", "WhoAmI"), "401": errors["401"] },
        },
      },
      "/api/v1/health": {
        get: {
          summary: "Live workers and their sandbox boundary",
          security: [{ bearer: [] }],
          responses: { "200": answer("Live workers", "Health"), "401": errors["401"] },
        },
      },
      "/api/v1/sandboxes": {
        post: {
          summary: "Create a sandbox (answers when it is ready)",
          security: [{ bearer: [] }],
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/SandboxRequest" }) },
          responses: { "201": answer("The sandbox, ready", "Sandbox"), ...errors },
        },
      },
      "/api/v1/sandboxes/{id}": {
        get: {
          summary: "A sandbox",
          security: [{ bearer: [] }],
          parameters: [idParam("id")],
          responses: { "200": answer("The sandbox", "Sandbox"), ...errors },
        },
        delete: {
          summary: "Delete a sandbox",
          security: [{ bearer: [] }],
          parameters: [idParam("id")],
          responses: { "200": answer("The sandbox, deleted", "Sandbox"), ...errors },
        },
      },
      "/api/v1/sandboxes/{id}/runs": {
        post: {
          summary: "Run the sandbox's code (or a command) inside it",
          security: [{ bearer: [] }],
          parameters: [idParam("id"), waitParam],
          requestBody: { required: false, ...json({ $ref: "#/components/schemas/SandboxRunRequest" }) },
          responses: {
            "201": {
              description: "Queued (`SandboxRunStarted`), or with `?wait=1` the result",
              ...json({ oneOf: [ref("SandboxRunStarted"), ref("SandboxRunResult")] }),
            },
            ...errors,
          },
        },
      },
      "/api/v1/sandboxes/{id}/runs/{runId}": {
        get: {
          summary: "A sandbox run's result",
          security: [{ bearer: [] }],
          parameters: [idParam("id"), idParam("runId"), waitParam],
          responses: { "200": answer("The result (so far, without `?wait=1`)", "SandboxRunResult"), ...errors },
        },
      },
      "/api/v1/sandboxes/{id}/files": {
        post: {
          summary: "Upload a file into the sandbox",
          security: [{ bearer: [] }],
          parameters: [idParam("id")],
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/FileUpload" }) },
          responses: { "201": answer("Written", "FileUploaded"), ...errors, ...fileErrors },
        },
        get: {
          summary: "Download a regular file of the sandbox's /sandbox",
          security: [{ bearer: [] }],
          parameters: [idParam("id"), { name: "path", in: "query", required: true, schema: { type: "string" } }],
          responses: { "200": answer("The file, in base64", "FileDownloaded"), ...errors, ...fileErrors },
        },
      },
    },
  };
}
