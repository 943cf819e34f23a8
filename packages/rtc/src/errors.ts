/** Why an alarmq chain was refused (spec 5.23.6.4.2: all alarmq fields are device-writable, at least one notification long). */
export type RtcRequestErrorCode =
  /** An alarmq chain with device-readable buffers or under 16 device-writable bytes. */
  'bad-alarm-buffer';

/** A malformed alarmq chain; the device sets DEVICE_NEEDS_RESET with it. Malformed requestq requests get an error status instead. */
export class RtcRequestError extends Error {
  override readonly name = 'RtcRequestError';
  constructor(
    readonly code: RtcRequestErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
