/** Why the driver gave up on a device (it has set FAILED where spec 3.1.1 asks it to). */
export type DeviceInitErrorCode =
  /** The device did not reset (status never read back 0). */
  | 'reset-timeout'
  /** The device does not offer a feature the driver requires. */
  | 'missing-features'
  /** The device cleared FEATURES_OK: it does not support the accepted subset. */
  | 'features-rejected'
  /** A queue the driver needs does not exist or did not enable. */
  | 'queue-unavailable'
  /** The driver's configuration check refused the device. */
  | 'config-rejected'
  /** The configuration generation never settled. */
  | 'config-unstable'
  /** A queue reset did not complete. */
  | 'queue-reset-failed'
  /** The device did not suspend or resume (or VIRTIO_F_SUSPEND was not negotiated). */
  | 'suspend-failed';

/** The driver initialization sequence (spec 3.1.1) or a driver-side operation failed. */
export class DeviceInitError extends Error {
  override readonly name = 'DeviceInitError';
  constructor(
    readonly code: DeviceInitErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
