/** What a driver did wrong in a console virtqueue (spec 5.3.6.1, 5.3.6.2). */
export type ConsoleRequestErrorCode =
  /** A device-readable buffer in a receiveq or the control receiveq. */
  | 'readable-in-receiveq'
  /** A device-writable buffer in a transmitq or the control transmitq. */
  | 'writable-in-transmitq'
  /** A receive buffer with no writable byte, or a control receiveq buffer shorter than struct virtio_console_control. */
  | 'short-receive-buffer'
  /** A control transmitq message shorter than struct virtio_console_control. */
  | 'short-control-message';

/** A malformed console chain; the device sets DEVICE_NEEDS_RESET with it. */
export class ConsoleRequestError extends Error {
  override readonly name = 'ConsoleRequestError';
  constructor(
    readonly code: ConsoleRequestErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
