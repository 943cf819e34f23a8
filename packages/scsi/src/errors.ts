/** A request chain the device cannot even answer (no room for its response). */
export class ScsiFramingError extends Error {
  constructor(
    readonly chainId: number,
    message: string,
  ) {
    super(`scsi: chain ${chainId}: ${message}`);
    this.name = 'ScsiFramingError';
  }
}

export type ScsiDriverErrorCode = 'needs-reset' | 'reset' | 'bad-device';

/** A driver request failed because of the device or a reset, not because of its SCSI outcome. */
export class ScsiDriverError extends Error {
  constructor(
    readonly code: ScsiDriverErrorCode,
    message: string,
  ) {
    super(`scsi: ${message}`);
    this.name = 'ScsiDriverError';
  }
}
