/** A request the driver placed on a balloon virtqueue that the device cannot interpret (the device then needs a reset). */
export class BalloonRequestError extends Error {
  override readonly name = 'BalloonRequestError';
}

/** Why a driver operation failed: the device was reset, needs a reset, or a feature is missing. */
export class BalloonDriverError extends Error {
  override readonly name = 'BalloonDriverError';
}
