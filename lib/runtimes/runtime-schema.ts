import { z } from "zod";

/**
 * What `images/<name>/runtime.json` says about a runtime: everything the web, the worker, the image builder and
 * the docs need beyond the image recipe itself. The folder name is the runtime's name (the API's `runtime`, the
 * image tag `sandpit/<name>`); `starter.<fileExtension>` beside it is the playground's starter snippet.
 * The image's own contract (the same for every runtime): `/opt/sandpit/warm` (its CMD) reads the code per
 * images/base/recv and runs it in every single-use container, warm or cold; `/opt/sandpit/call` runs
 * `/sandbox/main.<fileExtension>` for a sandbox run (calling its handler, where the language has one).
 */
export const runtimeFileSchema = z
  .object({
    /** Shown in pickers and on share pages, e.g. "Python 3.11". */
    label: z.string().min(1).max(40),
    /** Position in pickers and lists (ascending); the first runtime is the default one. */
    order: z.number().int(),
    /** Source file extension: the sandbox's code is /sandbox/main.<ext>, the starter starter.<ext>. */
    fileExtension: z.string().regex(/^[a-z0-9]{1,8}$/),
    /** Monaco's language id for the editor (a mode registered in components/editor/load-monaco.ts; others show plain text). */
    monacoLanguage: z.string().regex(/^[a-z0-9-]{1,40}$/),
    /**
     * The sandbox API's `language` values this runtime runs, its default first. A language listed by exactly
     * one runtime implies that runtime; one listed by several needs an explicit `runtime`.
     */
    languages: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/)).min(1),
    /** Other names the sandbox API accepts for this runtime (bash: shell). */
    aliases: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/)),
    /** How a sandbox's `requirements` are installed: pip (needs python3 in the image), npm (needs node and npm), or not at all. */
    requirements: z.enum(["pip", "npm", "none"]),
    /** A one-line sandbox `code` starting with one of these (then an argument) is a command to run, not source. */
    commandPrefixes: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]*( [a-z0-9][a-z0-9.-]*)*$/)),
    /** Whether sandboxes of this runtime take the API's `denoFlags` (permission flags, passed as SANDPIT_DENO_FLAGS). */
    permissionFlags: z.boolean(),
    /**
     * The Sandpit SDK the image carries (py: sdk/python, js: sdk/js; staged by scripts/build-images.sh), configured
     * from SANDPIT_API_URL: only runtimes with one may create nested sandboxes. Absent: none.
     */
    sdk: z.enum(["py", "js"]).optional(),
    /**
     * The folder under images/ of this runtime's GPU image (built on demand: scripts/gpu-image.sh; its
     * requirements.txt lists what it carries). GPU sandboxes start from it when it is built, without reinstalling
     * what it carries; otherwise from the runtime's own image with their requirements. Absent: no GPU image.
     */
    gpuImage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/)
      .optional(),
    /** A program that prints exactly "hello": the integration tests (runs-api) and the benchmark run it. */
    hello: z
      .object({
        code: z.string().min(1),
        /** An argv that runs `code` inside the image without Sandpit's agent (the benchmark's `docker run` baseline). */
        inImage: z.array(z.string()).min(1),
      })
      .strict(),
  })
  .strict();

export type RuntimeFile = z.infer<typeof runtimeFileSchema>;

/** A runtime's name: any folder under images/ with a runtime.json (checked against the catalog where it matters). */
export type RuntimeName = string;

export type Runtime = RuntimeFile & {
  name: RuntimeName;
  /** The playground's starter snippet (starter.<fileExtension>). */
  starter: string;
  /** The playground's snippet for a chosen model, reading MODEL_PATH (starter.model.<fileExtension>); null: none. */
  modelStarter: string | null;
  /** Where a sandbox's code is written, relative to /sandbox. */
  sourceFile: string;
  /** The packages the GPU image carries (images/<gpuImage>/requirements.txt, names lowercased); empty without one. */
  gpuImagePackages: string[];
};

/** What browser code needs of a runtime (passed from the server: client bundles never read the catalog's files). */
export type ClientRuntime = Pick<Runtime, "name" | "label" | "monacoLanguage" | "starter" | "modelStarter">;

export const RUNTIME_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
