// Public exports of @virtio/pmem.
export * from './protocol.js';
export { PmemDevice, PMEM_DEFAULT_RING_FEATURES, type PmemDeviceOptions, type PmemCounters } from './device.js';
export { PmemDriver, type PmemDriverOptions, type SharedMemoryLookup } from './driver.js';
export { PmemRequestError, PmemDriverError } from './errors.js';
export type { PmemBackend } from './backends/backend.js';
export { MemoryPmemBackend, CallbackPmemBackend } from './backends/memory.js';
