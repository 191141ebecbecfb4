import type { SandpitDb } from "@/lib/db/open-database";
import type { ContainerEngine } from "@/worker/engine/container-engine";
import { DEFAULT_HARDENING } from "@/worker/container/hardening-policy";
import type { LaunchDeps } from "@/worker/execution/launchers";
import type { SupervisorDeps } from "@/worker/sandboxes/sandbox-supervisor";

/**
 * What the worker's parts (executeRun, the run queue loop, the sandbox supervisor) are given in the unit tests:
 * worker "w1", instance "i1", the default hardening, runc, no model store. `overrides` changes any of it.
 */
export function testLaunchDeps(db: SandpitDb, engine: ContainerEngine, overrides: Partial<LaunchDeps> = {}): LaunchDeps {
  return {
    db,
    engine,
    policy: DEFAULT_HARDENING,
    workerId: "w1",
    instanceId: "i1",
    imagePrefix: "sandpit/",
    modelsDir: "/nonexistent",
    containerRuntime: "runc",
    ...overrides,
  };
}

/** Requirements-image settings as the worker's defaults: a 1 GiB cache, a minute per build, the public indexes. */
export const TEST_REQUIREMENTS_SETTINGS: SupervisorDeps["requirements"] = {
  cacheBytes: 1024 * 1024 * 1024,
  buildTimeoutMs: 60_000,
  usageFile: null,
  pipIndexUrl: "https://pypi.org/simple",
  npmRegistry: "https://registry.npmjs.org/",
  fetchDockerRuntime: null,
};

/**
 * A sandbox supervisor's deps: testLaunchDeps, events dropped, and a web URL nothing listens on (only a nested
 * sandbox's API channel would reach it).
 */
export function testSupervisorDeps(db: SandpitDb, engine: ContainerEngine, overrides: Partial<SupervisorDeps> = {}): SupervisorDeps {
  return {
    ...testLaunchDeps(db, engine),
    webUrl: "http://127.0.0.1:9",
    publishRun: () => {},
    publishSandbox: () => {},
    requirements: TEST_REQUIREMENTS_SETTINGS,
    ...overrides,
  };
}
