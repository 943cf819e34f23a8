// Public exports of @virtio/balloon.
export * from './protocol.js';
export { BalloonDevice, BALLOON_ALL_FEATURES, BALLOON_DEFAULT_RING_FEATURES, STATS_MAX_ENTRIES, type BalloonDeviceOptions, type BalloonCounters } from './device.js';
export { BalloonDriver, BALLOON_ARRAY_PFNS_MAX, BALLOON_REPORT_MAX_PAGES, type BalloonDriverOptions } from './driver.js';
export { BalloonRequestError, BalloonDriverError } from './errors.js';
export type { BalloonBackend } from './backends/backend.js';
export { MemoryBalloonBackend, type MemoryBalloonBackendOptions } from './backends/memory.js';
export { balloonQueueCount, balloonQueueIndex } from './queues.js';
export { RangePagePool, type GuestPagePool } from './page-pool.js';
