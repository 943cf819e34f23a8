/** A request the driver placed on req_vq that the device cannot answer (no room for the response): the device needs a reset. */
export class PmemRequestError extends Error {
  override readonly name = 'PmemRequestError';
}

/** A flush failed (the device answered -1), or the device was reset or needs a reset. */
export class PmemDriverError extends Error {
  override readonly name = 'PmemDriverError';
}
