// Public exports of @virtio/blk.
export * from './protocol.js';
export { BlkConfigOffset, BlkConfigSpace, VIRTIO_BLK_CONFIG_SIZE, type BlkConfigFields } from './config.js';
export type { BlockBackend } from './backend.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory.js';
export { BlkDevice } from './device.js';
export { DEFAULT_RING_FEATURES, type BlkDeviceOptions, type BlkRangeLimits } from './offer.js';
export {
  BlkDriver,
  BLK_DRIVER_FEATURES,
  type BlkDriverOptions,
  type BlkDriverConfig,
  type BlkRange,
  type BlkZonedConfig,
  type BlkZoneDescriptor,
} from './driver.js';
export { ZoneTable, type BlkZonedOptions, type BlkZonedCharacteristics } from './zones.js';
export { BlkFramingError, BlkDriverError, type BlkDriverErrorCode } from './errors.js';
