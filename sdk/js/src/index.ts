/**
 * Sandpit TypeScript SDK: hardened sandboxes that keep state between runs.
 *
 *   import { Sandpit, CPUSandbox } from "@sandpit/sdk";
 *   await Sandpit({ apiToken, baseUrl });
 *   await using sandbox = await CPUSandbox.create({ runtime: "node", code: "console.log('hi')" });
 *   const result = await sandbox.run();   // deleted when the block ends
 */
export { Sandpit, Buildfunctions, Client, configure, getDefaultClient, DEFAULT_BASE_URL } from "./client.js";
export type { ClientOptions, User } from "./client.js";

export { Sandbox, CPUSandbox, GPUSandbox } from "./sandbox.js";
export { runCode, CODE_RUNTIMES } from "./run-code.js";
export type { RunCodeOptions, CodeRunResult, CodeRuntime } from "./run-code.js";
export type { SandboxInfo, RunResult, RunOptions, RunOptionsWithInput, RunState, UploadOptions } from "./sandbox.js";
/** The server's request, answer and Socket.IO event types, generated from its OpenAPI document. */
export type * as api from "./generated/api.js";

export type { SandboxOptions, GPUSandboxOptions, EnvVariables, Runtime, Language } from "./options.js";
export type { OutputCallback } from "./stream.js";

export {
  SandpitError,
  BuildfunctionsError,
  AuthError,
  AuthenticationError,
  CapacityError,
  NotFoundError,
  ValidationError,
  ConflictError,
  RateLimitError,
  SandpitTimeoutError,
} from "./errors.js";
export { uploadModel, planModel, isModelPath } from "./model-upload.js";
export type { ModelOption, ModelUpload, ModelFile } from "./model-upload.js";

export { looksLikePath, SOURCE_EXTENSIONS } from "./code-source.js";
