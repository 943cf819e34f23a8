/** Why an eventq or statusq chain was refused (spec 5.8.6.1 says what the driver must place). */
export type InputRequestErrorCode =
  /** An eventq chain with device-readable buffers or under 8 device-writable bytes. */
  | 'bad-event-buffer'
  /** A statusq chain with under 8 device-readable bytes. */
  | 'bad-status-buffer';

/** A malformed eventq/statusq chain; the device sets DEVICE_NEEDS_RESET with it. */
export class InputRequestError extends Error {
  override readonly name = 'InputRequestError';
  constructor(
    readonly code: InputRequestErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
