import type { SandpitDb } from "@/lib/db/open-database";
import type { RunRow } from "@/lib/db/schema";
import { listChunks, toRunView } from "@/lib/runs/run-view";
import { waitForRun } from "@/lib/runs/wait-for-run";
import { toSandboxRunResult } from "./sandbox-view";

/** The result of a sandbox run, after waiting for its end when asked to. */
export async function sandboxRunResponse(db: SandpitDb, run: RunRow, wait: boolean, waitMarginMs: number, signal?: AbortSignal) {
  const settled = wait ? ((await waitForRun(db, run.id, Date.now() + run.timeoutMs + waitMarginMs, signal)) ?? run) : run;
  const view = toRunView(settled, await listChunks(db, run.id));
  return toSandboxRunResult(settled, view.stdout, view.stderr);
}
