// Public exports of @virtio/scsi.
export * from './protocol.js';
export { ScsiConfigOffset, ScsiConfigSpace, VIRTIO_SCSI_CONFIG_SIZE, VIRTIO_SCSI_MAX_SENSE_OR_CDB, type ScsiConfigFields } from './config.js';
export { decodeLun, encodeLun, REPORT_LUNS_WLUN } from './lun.js';
export { fixedSense, parseSense, FIXED_SENSE_SIZE } from './sense.js';
export type { ScsiCommand, ScsiCommandResult, ScsiLogicalUnit } from './target.js';
export { ScsiDisk, ScsiOp, SCSI_DISK_BLOCK_SIZE, type ScsiDiskOptions } from './backends/disk.js';
export { ScsiDevice, SCSI_DEFAULT_RING_FEATURES, type ScsiDeviceOptions } from './device.js';
export { ScsiDriver, SCSI_DRIVER_FEATURES, type ScsiDriverOptions, type ScsiDriverConfig, type ScsiRequest, type ScsiResult, type ScsiEvent } from './driver.js';
export { ScsiFramingError, ScsiDriverError, type ScsiDriverErrorCode } from './errors.js';
