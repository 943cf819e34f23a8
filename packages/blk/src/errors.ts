/**
 * A request the device cannot answer with a status byte (spec 5.2.6 gives no error status for
 * it): the device hands it to `ActivateContext.needsReset`, which sets DEVICE_NEEDS_RESET.
 */
export class BlkFramingError extends Error {
  override readonly name = 'BlkFramingError';
  /** @param chainId the chain's id (split: head index, packed: buffer id) */
  constructor(
    readonly chainId: number,
    message: string,
  ) {
    super(`blk: chain ${chainId}: ${message}`);
  }
}

/** Why the driver gave up on a request. */
export type BlkDriverErrorCode =
  /** The device set DEVICE_NEEDS_RESET. */
  | 'needs-reset'
  /** The driver reset the device with the request outstanding. */
  | 'reset'
  /** The device broke the used ring (a used id or index the driver never exposed). */
  | 'bad-device';

/** A request the device will never complete (the promise rejects with it). */
export class BlkDriverError extends Error {
  override readonly name = 'BlkDriverError';
  constructor(
    readonly code: BlkDriverErrorCode,
    message: string,
  ) {
    super(`blk: ${code}: ${message}`);
  }
}
