/**
 * A device's reset() / resetQueue() may return a promise (device.ts): the transport completes
 * the reset when it settles, or at once when the device returned anything else.
 */

/** Whether `value` is a promise-like (has a callable `then`). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Calls `done` now when `result` is not a promise, else once it settles: `error` is the
 * rejection reason (as an Error) when it rejected. A `then` that throws counts as a rejection.
 * @returns true when `done` already ran
 */
export function whenSettled(result: unknown, done: (error?: Error) => void): boolean {
  if (!isThenable(result)) {
    done();
    return true;
  }
  try {
    result.then(
      () => done(),
      (err: unknown) => done(asError(err)),
    );
  } catch (err) {
    done(asError(err));
    return true;
  }
  return false;
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
