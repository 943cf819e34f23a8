/**
 * The device's clocks (spec 5.23.6.1 "Common Definitions"): what the host configures and how
 * each clock type is read from the time source.
 */
import {
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_TAI,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED,
  VIRTIO_RTC_CLOCK_UTC_SMEARED,
  VIRTIO_RTC_SMEAR_UNSPECIFIED,
} from './protocol.js';
import { isSmearVariant, type LeapSecondTable, type SmearVariant } from './time/leap-seconds.js';
import type { RtcTimeSource } from './time/source.js';

/** One clock of the device, as the host configures it. */
export interface RtcClockSpec {
  /** VIRTIO_RTC_CLOCK_UTC, _TAI, _MONOTONIC, _UTC_SMEARED or _UTC_MAYBE_SMEARED. */
  readonly type: number;
  /**
   * How leap seconds are smeared: VIRTIO_RTC_SMEAR_NOON_LINEAR or VIRTIO_RTC_SMEAR_UTC_SLS.
   * Required for UTC_SMEARED (and reported in leap_second_smearing); for UTC_MAYBE_SMEARED
   * optional (omitted: the clock steps like UTC; reported as UNSPECIFIED either way); not
   * allowed for other types.
   */
  readonly smearing?: number;
  /** Whether the clock supports an alarm (VIRTIO_RTC_FLAG_ALARM_CAP). Default false. */
  readonly alarm?: boolean;
}

/** A validated clock. */
export interface RtcClock {
  readonly type: number;
  /** The variant applied, or undefined when the clock steps at leap seconds (or has none). */
  readonly smear: SmearVariant | undefined;
  /** The leap_second_smearing value of VIRTIO_RTC_REQ_CLOCK_CAP. */
  readonly reportedSmearing: number;
  readonly alarm: boolean;
}

/** The default clocks: UTC (with an alarm), TAI, monotonic. */
export const DEFAULT_RTC_CLOCKS: readonly RtcClockSpec[] = [
  { type: VIRTIO_RTC_CLOCK_UTC, alarm: true },
  { type: VIRTIO_RTC_CLOCK_TAI },
  { type: VIRTIO_RTC_CLOCK_MONOTONIC },
];

/** @throws RangeError for an unknown clock type or a smearing variant the type does not take */
export function validateClock(spec: RtcClockSpec, index: number): RtcClock {
  const { type, smearing } = spec;
  const where = `rtc: clock ${index}`;
  if (type < VIRTIO_RTC_CLOCK_UTC || type > VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED || !Number.isInteger(type)) {
    throw new RangeError(`${where}: unknown clock type ${type}`);
  }
  let smear: SmearVariant | undefined;
  if (type === VIRTIO_RTC_CLOCK_UTC_SMEARED || type === VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED) {
    if (smearing !== undefined && !isSmearVariant(smearing)) throw new RangeError(`${where}: smearing variant ${smearing} cannot be computed`);
    if (type === VIRTIO_RTC_CLOCK_UTC_SMEARED && smearing === undefined) throw new RangeError(`${where}: a UTC_SMEARED clock needs a smearing variant`);
    smear = smearing;
  } else if (smearing !== undefined) {
    throw new RangeError(`${where}: clock type ${type} does not smear`);
  }
  return {
    type,
    smear,
    // [rtc.dev.40] only UTC_SMEARED reports its variant; [rtc.dev.41] which is NOON_LINEAR or UTC_SLS.
    reportedSmearing: type === VIRTIO_RTC_CLOCK_UTC_SMEARED && smear !== undefined ? smear : VIRTIO_RTC_SMEAR_UNSPECIFIED,
    alarm: spec.alarm ?? false,
  };
}

/**
 * The clock's reading in nanoseconds: UTC-like clocks count POSIX seconds since 1970-01-01
 * 00:00 UTC (stepping or smearing at leap seconds), TAI counts since 1970-01-01 00:00 TAI,
 * MONOTONIC is the source's monotonic time. May be negative or beyond 64 bits if the source is.
 */
export function readClock(clock: RtcClock, source: RtcTimeSource, table: LeapSecondTable): bigint {
  switch (clock.type) {
    case VIRTIO_RTC_CLOCK_TAI:
      return source.taiNs();
    case VIRTIO_RTC_CLOCK_MONOTONIC:
      return source.monotonicNs();
    default:
      return clock.smear === undefined ? table.taiToUtc(source.taiNs()) : table.smear(source.taiNs(), clock.smear);
  }
}
