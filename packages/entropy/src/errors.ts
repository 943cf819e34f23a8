/** Why a requestq chain was refused (spec 5.4.6.1: the driver places only device-writable buffers). */
export type EntropyRequestErrorCode =
  /** The chain has device-readable buffers. */
  | 'device-readable-buffer'
  /** The chain has no device-writable byte, so no random byte can be placed (spec 5.4.6.2). */
  | 'empty-buffer';

/** A malformed entropy request; the device sets DEVICE_NEEDS_RESET with it. */
export class EntropyRequestError extends Error {
  override readonly name = 'EntropyRequestError';
  constructor(
    readonly code: EntropyRequestErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
