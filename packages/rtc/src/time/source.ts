/**
 * What the RTC device reads time from and arms alarm timers with. Both are injectable: the
 * host clock ({@link HostTimeSource}, {@link hostTimer}) in a VMM, {@link FakeTimeSource} in tests.
 */

/** The device's physical timelines. Readings are nanoseconds as bigint. */
export interface RtcTimeSource {
  /**
   * Physical time as TAI: nanoseconds since 1970-01-01 00:00:00 TAI. May step (forward or
   * back) when the host's time is set.
   */
  taiNs(): bigint;
  /**
   * Monotonic physical time in nanoseconds of SI seconds since an epoch before the device was
   * created; never decreases.
   */
  monotonicNs(): bigint;
}

/** One-shot timers for alarm expiry. Delays are milliseconds of monotonic time. */
export interface RtcTimer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
