/** Labels on every container (and requirements image) the worker makes: how recovery and the engine find ours. */
export const LABELS = {
  managed: "sandpit.managed",
  /** One Sandpit installation (database) per value, so two installations on one Docker host never reap each other's sandboxes. */
  instance: "sandpit.instance",
  run: "sandpit.run",
  /** A warm pool container of the worker it names; it belongs to that worker until the worker dies. */
  pool: "sandpit.pool",
  sandbox: "sandpit.sandbox",
  worker: "sandpit.worker",
} as const;
