import type { ContainerRuntime } from "./stack";

/** Both container runtimes, always: the setup installs runsc, so its absence is a failure, not a skip. */
export const CONTAINER_RUNTIMES: ContainerRuntime[] = ["runc", "runsc"];
