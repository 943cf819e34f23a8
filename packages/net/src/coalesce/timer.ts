/** The time source of notification coalescing: injectable so tests can use a fake clock. */

/** Starts one-shot timers. */
export interface CoalesceTimer {
  /** Calls `fire` once, `usecs` microseconds from now; returns a function that cancels it. */
  start(usecs: number, fire: () => void): () => void;
}

/**
 * The runtime's setTimeout: millisecond resolution, so a delay is rounded up to whole
 * milliseconds (coalescing is best-effort, spec 5.1.6.5.8 [net.dev.82]).
 */
export const systemTimer: CoalesceTimer = {
  start(usecs, fire) {
    const handle = setTimeout(fire, Math.ceil(usecs / 1000));
    return () => clearTimeout(handle);
  },
};
