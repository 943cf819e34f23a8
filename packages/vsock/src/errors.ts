/** Why a vsock chain was refused (spec 5.10.6.6: outgoing buffers read-only, incoming write-only). */
export type VsockRequestErrorCode =
  /** A tx chain with device-writable buffers, a header under 44 bytes, or a len beyond its buffer or the payload limit. */
  | 'bad-tx-buffer'
  /** An rx chain with device-readable buffers or too small for a header. */
  | 'bad-rx-buffer'
  /** An event chain with device-readable buffers or under 4 writable bytes. */
  | 'bad-event-buffer';

/** A malformed vsock chain; the device sets DEVICE_NEEDS_RESET with it. */
export class VsockRequestError extends Error {
  override readonly name = 'VsockRequestError';
  constructor(
    readonly code: VsockRequestErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
