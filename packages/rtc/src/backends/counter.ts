/**
 * Hardware counters for cross-timestamping (VIRTIO_RTC_REQ_READ_CROSS, spec 5.23.6.3): what
 * the driver would read from its counter (e.g. the x86 TSC) at the instant of a clock reading.
 */

/** A hardware counter as the driver sees it. */
export interface RtcHwCounter {
  /** Its hw_counter identifier: VIRTIO_RTC_COUNTER_ARM_VCT, VIRTIO_RTC_COUNTER_X86_TSC, or 0xF0..0xFE. */
  readonly hwCounter: number;
  /**
   * The value the driver would have read from the counter (on the CPU it enumerates first)
   * at monotonic time `monotonicNs` of the device's time source, accounting for the counter's
   * offset and multiplier between host and guest; null when that cannot be determined now
   * (the request then fails with VIRTIO_RTC_S_EIO).
   */
  cyclesAt(monotonicNs: bigint): bigint | null;
}

export interface LinearHwCounterOptions {
  /** hw_counter identifier (see {@link RtcHwCounter.hwCounter}). */
  readonly hwCounter: number;
  /** Counter frequency, in Hz (a positive integer). */
  readonly hz: bigint;
  /** Counter value at monotonic time 0. Default 0. */
  readonly offset?: bigint;
}

/**
 * A counter that runs at a fixed frequency from the device's monotonic time: the counter of a
 * guest whose counter the VMM emulates (or knows the scaling of), and a test counter.
 */
export class LinearHwCounter implements RtcHwCounter {
  readonly hwCounter: number;
  readonly hz: bigint;
  readonly offset: bigint;

  /** @throws RangeError for a non-positive frequency */
  constructor(opts: LinearHwCounterOptions) {
    if (opts.hz <= 0n) throw new RangeError(`rtc: counter frequency ${opts.hz} Hz is not positive`);
    this.hwCounter = opts.hwCounter;
    this.hz = opts.hz;
    this.offset = opts.offset ?? 0n;
  }

  cyclesAt(monotonicNs: bigint): bigint {
    return this.offset + (monotonicNs * this.hz) / 1_000_000_000n;
  }
}
