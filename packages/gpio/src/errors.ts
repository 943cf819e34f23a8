/** Why a chain was refused outright (the device cannot even report a status into it). */
export type GpioRequestErrorCode =
  /** A requestq chain with no device-writable byte for struct virtio_gpio_response. */
  | 'no-response-buffer'
  /** An eventq chain with no device-writable byte for struct virtio_gpio_irq_response. */
  | 'no-irq-response-buffer';

/** A malformed chain; the device sets DEVICE_NEEDS_RESET with it. */
export class GpioRequestError extends Error {
  override readonly name = 'GpioRequestError';
  constructor(
    readonly code: GpioRequestErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
