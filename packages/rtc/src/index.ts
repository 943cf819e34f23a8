// Public exports of @virtio/rtc.
export * from './protocol.js';
export { LeapSecondTable, type LeapSecond, type LeapSecondTableOptions, type SmearVariant } from './time/leap-seconds.js';
export type { RtcTimeSource, RtcTimer } from './time/source.js';
export { HostTimeSource, hostTimer, type HostTimeSourceOptions } from './backends/host.js';
export { FakeTimeSource, type FakeTimeSourceOptions } from './backends/fake.js';
export { LinearHwCounter, type LinearHwCounterOptions, type RtcHwCounter } from './backends/counter.js';
export { DEFAULT_RTC_CLOCKS, type RtcClock, type RtcClockSpec } from './clocks.js';
export { RtcDevice, RTC_DEFAULT_RING_FEATURES, type RtcDeviceOptions, type RtcStats } from './device.js';
export { RtcRequestError, type RtcRequestErrorCode } from './errors.js';
export {
  RtcDriver,
  RtcDriverError,
  RtcStatusError,
  type RtcAlarm,
  type RtcAlarmNotification,
  type RtcClockInfo,
  type RtcCrossReading,
  type RtcDriverOptions,
} from './driver.js';
