/**
 * TAI, UTC and leap seconds: how the device derives its UTC-like clocks from one physical
 * timeline (TAI). UTC steps at leap seconds (spec 5.23.6.2.2 [rtc.dev.24], [rtc.dev.25]);
 * smeared UTC changes its frequency in a window around them instead ([rtc.dev.26] - [rtc.dev.34]).
 * All times are nanoseconds as bigint: TAI since 1970-01-01 00:00:00 TAI, UTC as POSIX time
 * (since 1970-01-01 00:00:00 UTC, leap seconds not counted).
 */
import { VIRTIO_RTC_SMEAR_NOON_LINEAR, VIRTIO_RTC_SMEAR_UTC_SLS } from '../protocol.js';

const NS = 1_000_000_000n;
const DAY = 86_400;

/** One announced leap second. */
export interface LeapSecond {
  /**
   * The UTC midnight that ends the day containing the leap second, as POSIX seconds (a multiple
   * of 86400). E.g. 1483228800 for the leap second 2016-12-31T23:59:60Z.
   */
  readonly utc: number;
  /** +1: a positive leap second (23:59:60 inserted); -1: a negative one (23:59:59 skipped). */
  readonly step: 1 | -1;
}

export interface LeapSecondTableOptions {
  /** TAI - UTC in seconds before the first listed leap second (the current offset when none is listed). Default 37. */
  readonly taiMinusUtc?: number;
  /** Leap seconds, in increasing order, at least two days apart. Default none. */
  readonly leaps?: readonly LeapSecond[];
}

/** The smearing variants the device can compute. */
export type SmearVariant = typeof VIRTIO_RTC_SMEAR_NOON_LINEAR | typeof VIRTIO_RTC_SMEAR_UTC_SLS;

interface Leap {
  /** The midnight ending the leap day, POSIX seconds. */
  readonly midnight: bigint;
  readonly step: bigint;
  /** TAI - UTC before this leap, seconds. */
  readonly before: bigint;
  /** TAI instant (ns) at which the leap second starts. */
  readonly startTai: bigint;
}

/**
 * TAI - UTC over time. The default (37 s, no announced leap second) is the offset in force
 * since 2017. Immutable.
 */
export class LeapSecondTable {
  /** TAI - UTC before the first listed leap second, in seconds. */
  readonly taiMinusUtc: number;
  readonly leaps: readonly LeapSecond[];
  readonly #leaps: readonly Leap[];

  /** @throws RangeError for a non-integer offset, a leap not at a UTC midnight, a step other than +-1, or leaps out of order or closer than two days */
  constructor(opts: LeapSecondTableOptions = {}) {
    const base = opts.taiMinusUtc ?? 37;
    if (!Number.isSafeInteger(base)) throw new RangeError(`rtc: taiMinusUtc ${base} is not an integer number of seconds`);
    const leaps = opts.leaps ?? [];
    const out: Leap[] = [];
    let offset = BigInt(base);
    let last = -Infinity;
    for (const l of leaps) {
      if (!Number.isSafeInteger(l.utc) || l.utc % DAY !== 0) throw new RangeError(`rtc: leap second at ${l.utc} is not at a UTC midnight`);
      if (l.step !== 1 && l.step !== -1) throw new RangeError(`rtc: leap second step ${String(l.step)} is not +1 or -1`);
      if (l.utc < last + 2 * DAY) throw new RangeError(`rtc: leap seconds out of order or less than two days apart at ${l.utc}`);
      last = l.utc;
      const midnight = BigInt(l.utc);
      const step = BigInt(l.step);
      // A positive leap second starts when UTC reaches midnight (23:59:60); a negative one is 23:59:59.
      const start = l.step === 1 ? midnight : midnight - 1n;
      out.push({ midnight, step, before: offset, startTai: (start + offset) * NS });
      offset += step;
    }
    this.taiMinusUtc = base;
    this.leaps = leaps.map((l) => ({ utc: l.utc, step: l.step }));
    this.#leaps = out;
  }

  /** TAI - UTC in seconds at TAI instant `taiNs`. */
  offsetAt(taiNs: bigint): bigint {
    let offset = BigInt(this.taiMinusUtc);
    for (const l of this.#leaps) {
      if (taiNs < l.startTai) break;
      offset = l.before + l.step;
    }
    return offset;
  }

  /**
   * UTC (POSIX ns) at TAI instant `taiNs`, stepping at leap seconds: back by 1 s at the start
   * of a positive leap second, forward by 1 s at the start of a negative one.
   */
  taiToUtc(taiNs: bigint): bigint {
    return taiNs - this.offsetAt(taiNs) * NS;
  }

  /**
   * TAI (ns) for a POSIX UTC reading `utcNs`. The second repeated by a positive leap second maps
   * to its first occurrence.
   */
  utcToTai(utcNs: bigint): bigint {
    let offset = BigInt(this.taiMinusUtc);
    for (const l of this.#leaps) {
      if (utcNs < l.midnight * NS) break;
      offset = l.before + l.step;
    }
    return utcNs + offset * NS;
  }

  /**
   * Smeared UTC (POSIX ns) at TAI instant `taiNs`: equal to {@link taiToUtc} outside the smear
   * window of a leap second; inside it, a linear, step-free ramp from the UTC reading at the
   * window's start to the UTC reading at its end. NOON_LINEAR: the window runs from the noon
   * before the leap second to the noon after it (UTC readings); UTC_SLS: the last 1000 s of the
   * leap day. The window's ends are exact, so the frequency changes by 1/(86400 + step) resp.
   * 1/(1000 + step) - the spec's 1/86400 resp. 0.1% to within 1.2e-10 resp. 1e-6 relative.
   */
  smear(taiNs: bigint, variant: SmearVariant): bigint {
    for (const l of this.#leaps) {
      const from = variant === VIRTIO_RTC_SMEAR_NOON_LINEAR ? l.midnight - 43_200n : l.midnight - 1000n;
      const width = variant === VIRTIO_RTC_SMEAR_NOON_LINEAR ? 86_400n : 1000n;
      const start = (from + l.before) * NS;
      const physical = (width + l.step) * NS;
      if (taiNs >= start && taiNs < start + physical) {
        const elapsed = taiNs - start;
        return from * NS + (elapsed * width) / (width + l.step);
      }
    }
    return this.taiToUtc(taiNs);
  }
}

/** Whether `v` is a smearing variant the device can compute. */
export const isSmearVariant = (v: number): v is SmearVariant => v === VIRTIO_RTC_SMEAR_NOON_LINEAR || v === VIRTIO_RTC_SMEAR_UTC_SLS;
