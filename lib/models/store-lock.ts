/**
 * The web process is the store's only writer. Commits, deletes and blob garbage collection run one at a time
 * (a delete's collection must never unlink a blob a commit is linking); chunks of one blob are written by one
 * request at a time.
 */
type LockState = { tail: Promise<unknown>; blobsInFlight: Set<string> };
const key = Symbol.for("sandpit.modelStoreLock");
const holder = globalThis as typeof globalThis & { [key]?: LockState };

function state(): LockState {
  return (holder[key] ??= { tail: Promise.resolve(), blobsInFlight: new Set() });
}

export function withStoreLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = state();
  const result = lock.tail.then(work, work);
  lock.tail = result.catch(() => undefined);
  return result;
}

/** Claims one blob for a chunk write; false when another request is writing it now. */
export function claimBlob(sha256: string): boolean {
  const { blobsInFlight } = state();
  if (blobsInFlight.has(sha256)) return false;
  blobsInFlight.add(sha256);
  return true;
}

export function releaseBlob(sha256: string): void {
  state().blobsInFlight.delete(sha256);
}
