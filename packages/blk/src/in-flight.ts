/**
 * Backend work in flight, per queue and in total: a device or queue reset completes only when
 * the work it waits for finished, since a backend read writes into guest memory (zero copy)
 * until its promise settles.
 */
export class InFlight {
  readonly #perQueue: Uint32Array;
  #total = 0;
  #idle: (() => void)[] = [];
  readonly #queueIdle: (() => void)[][];

  constructor(numQueues: number) {
    this.#perQueue = new Uint32Array(numQueues);
    this.#queueIdle = Array.from({ length: numQueues }, () => []);
  }

  /** Requests whose backend work has not finished. */
  get total(): number {
    return this.#total;
  }

  /** Requests of queue `qi` whose backend work has not finished. */
  queue(qi: number): number {
    return this.#perQueue[qi] ?? 0;
  }

  /** Backend work for a request of queue `qi` started. */
  started(qi: number): void {
    this.#perQueue[qi]++;
    this.#total++;
  }

  /** Backend work for a request of queue `qi` finished (resolved or rejected). */
  finished(qi: number): void {
    if (--this.#perQueue[qi] === 0) wake(this.#queueIdle, qi);
    if (--this.#total === 0 && this.#idle.length > 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }

  /** Resolves when no backend work is in flight. */
  whenIdle(): Promise<void> {
    if (this.#total === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Resolves when no backend work of queue `qi` is in flight. */
  whenQueueIdle(qi: number): Promise<void> {
    if (this.queue(qi) === 0) return Promise.resolve();
    return new Promise((resolve) => this.#queueIdle[qi].push(resolve));
  }
}

function wake(lists: (() => void)[][], qi: number): void {
  const waiting = lists[qi];
  if (waiting.length === 0) return;
  lists[qi] = [];
  for (const resolve of waiting) resolve();
}
