/** Something that runs async jobs one at a time, in the order they were handed in. */
export type Turns = <T>(job: () => Promise<T>) => Promise<T>;

/**
 * A queue of async jobs that run one at a time: for a check-then-write that must not interleave with another
 * (each job's awaited queries let other work run in between). A job that fails does not stop the next.
 */
export function takeTurns(): Turns {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const turn = tail.then(job);
    tail = turn.catch(() => undefined);
    return turn;
  };
}
