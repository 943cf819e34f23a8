/**
 * The host's clock (runtime-neutral: `performance` and `Date` exist in browsers and Node) and
 * the platform's timers.
 */
import { LeapSecondTable } from '../time/leap-seconds.js';
import type { RtcTimer, RtcTimeSource } from '../time/source.js';

export interface HostTimeSourceOptions {
  /**
   * Converts the host's UTC to TAI (TAI - UTC, e.g. `new LeapSecondTable({ taiMinusUtc: 37 })`).
   * Pass the same table to the device. Default 37 s and no leap second.
   */
  readonly leapSeconds?: LeapSecondTable;
  /**
   * 'performance' (default): UTC is `performance.timeOrigin + performance.now()`: steady,
   * sub-microsecond, but it does not follow the host's clock when that is set later.
   * 'date': UTC is `Date.now()` (millisecond resolution): it follows every setting of the
   * host's clock.
   */
  readonly utc?: 'performance' | 'date';
}

const NS_PER_MS = 1_000_000;

/** Milliseconds (a double) as whole nanoseconds. */
const msToNs = (ms: number): bigint => {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * NS_PER_MS));
};

/** The host's clock: UTC from `performance` or `Date`, monotonic time from `performance.now()`. */
export class HostTimeSource implements RtcTimeSource {
  readonly #table: LeapSecondTable;
  readonly #origin: bigint;
  readonly #date: boolean;

  constructor(opts: HostTimeSourceOptions = {}) {
    this.#table = opts.leapSeconds ?? new LeapSecondTable();
    this.#origin = msToNs(performance.timeOrigin);
    this.#date = opts.utc === 'date';
  }

  /** The host's UTC, POSIX nanoseconds. */
  utcNs(): bigint {
    return this.#date ? BigInt(Date.now()) * 1_000_000n : this.#origin + msToNs(performance.now());
  }

  taiNs(): bigint {
    return this.#table.utcToTai(this.utcNs());
  }

  /** `performance.now()`: its epoch (the time origin) precedes the device. */
  monotonicNs(): bigint {
    return msToNs(performance.now());
  }
}

/** The platform's `setTimeout`; timers are unref'd where the platform allows (Node), so a pending alarm does not keep a process alive. */
export const hostTimer: RtcTimer = {
  setTimeout(fn, ms) {
    const h = setTimeout(fn, ms) as unknown as { unref?: () => void };
    if (typeof h === 'object' && h !== null && typeof h.unref === 'function') h.unref();
    return h;
  },
  clearTimeout(h) {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};
