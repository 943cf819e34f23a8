// A fake clock for notification coalescing: timers fire only when the test advances time.
import type { CoalesceTimer } from '../src/index.js';

export class FakeTimer implements CoalesceTimer {
  now = 0;
  #timers: { at: number; fire: () => void; live: boolean }[] = [];

  start(usecs: number, fire: () => void): () => void {
    const t = { at: this.now + usecs, fire, live: true };
    this.#timers.push(t);
    return () => {
      t.live = false;
    };
  }

  /** Timers started and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.filter((t) => t.live).length;
  }

  /** Moves time forward by `usecs`, firing the timers due, in order. */
  advance(usecs: number): void {
    this.now += usecs;
    for (const t of [...this.#timers].sort((a, b) => a.at - b.at)) {
      if (t.live && t.at <= this.now) {
        t.live = false;
        t.fire();
      }
    }
    this.#timers = this.#timers.filter((t) => t.live);
  }
}
