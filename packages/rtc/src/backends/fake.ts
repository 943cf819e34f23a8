/**
 * A clock that moves only when told, with timers on its monotonic time: tests drive the RTC
 * device (readings, leap seconds, alarms) without waiting and without timing assertions.
 */
import type { RtcTimer, RtcTimeSource } from '../time/source.js';

export interface FakeTimeSourceOptions {
  /** Initial TAI, ns since 1970-01-01 00:00:00 TAI. Default 0. */
  readonly taiNs?: bigint;
  /** Initial monotonic time, ns. Default 0. */
  readonly monotonicNs?: bigint;
}

interface FakeTimerEntry {
  readonly at: bigint;
  readonly fn: () => void;
}

/** Time source and timer in one. Not for production: time stands still between calls. */
export class FakeTimeSource implements RtcTimeSource, RtcTimer {
  #tai: bigint;
  #mono: bigint;
  #next = 1;
  readonly #timers = new Map<number, FakeTimerEntry>();

  constructor(opts: FakeTimeSourceOptions = {}) {
    this.#tai = opts.taiNs ?? 0n;
    this.#mono = opts.monotonicNs ?? 0n;
  }

  taiNs(): bigint {
    return this.#tai;
  }

  monotonicNs(): bigint {
    return this.#mono;
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    const delay = BigInt(Math.max(0, Math.ceil(ms))) * 1_000_000n;
    this.#timers.set(id, { at: this.#mono + delay, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /**
   * Lets `ns` nanoseconds (>= 0) of physical time pass: TAI and monotonic time move together;
   * timers fire at their due times, in order, with time set to each due time.
   * @throws RangeError for a negative duration
   */
  advance(ns: bigint): void {
    if (ns < 0n) throw new RangeError('rtc: FakeTimeSource.advance needs a duration >= 0');
    const end = this.#mono + ns;
    for (;;) {
      let due: [number, FakeTimerEntry] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.#timers.delete(due[0]);
      const step = due[1].at > this.#mono ? due[1].at - this.#mono : 0n;
      this.#tai += step;
      this.#mono += step;
      due[1].fn();
    }
    this.#tai += end - this.#mono;
    this.#mono = end;
  }

  /**
   * Sets TAI (the host's time was set: a step, forward or back); monotonic time does not move.
   * Every pending timer fires at once, since delays armed against the old time mean nothing
   * now: their owners re-check and re-arm.
   */
  setTai(ns: bigint): void {
    this.#tai = ns;
    const timers = [...this.#timers.values()];
    this.#timers.clear();
    for (const t of timers) t.fn();
  }
}
