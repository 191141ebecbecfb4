import { abandonFailedTransaction } from "@/lib/db/open-database";
import { webDatabase } from "@/lib/db/web-database";
import { rootCause, SandpitError, storageFault } from "./sandpit-error";

/**
 * What a boundary (an API route, a server action) does with anything thrown: a SandpitError as it is, a storage
 * fault as its error (after rolling back the failed transaction), anything else logged as `internal`: the
 * client learns no more than that.
 */
export function recognizeError(thrown: unknown, boundary: string): SandpitError {
  if (thrown instanceof SandpitError) return thrown;
  const fault = storageFault(thrown);
  if (fault) {
    console.error(`[${boundary}] storage fault:`, (rootCause(thrown) as Error).message);
    // The connection is open (the fault came from it); a rollback that fails is logged where it happens.
    void webDatabase().then(abandonFailedTransaction, () => undefined);
    return fault;
  }
  console.error(`[${boundary}] unexpected error`, thrown);
  return new SandpitError("internal", "internal error");
}
