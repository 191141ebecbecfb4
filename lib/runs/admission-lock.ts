import { processSingleton } from "@/lib/os/process-singleton";
import { takeTurns, type Turns } from "@/lib/os/take-turns";

/**
 * Admission is check-then-insert: count (queued runs, the token's rate, live sandboxes, a parent's budget), then
 * insert. With synchronous SQLite that pair could not interleave; with awaited queries another request could
 * count between them and both slip past a limit. So admissions take turns, one at a time per process (a process
 * singleton: the Next.js bundle and the custom server share it). One web process (SQLite) keeps the old
 * guarantee; several web processes on one server database can each admit one at the same moment, so a limit
 * may be overshot by at most one per process (docs/scaling-design.md).
 */
export function withAdmissionLock<T>(admit: () => Promise<T>): Promise<T> {
  return processSingleton<Turns>("admissionTurns", takeTurns)(admit);
}
