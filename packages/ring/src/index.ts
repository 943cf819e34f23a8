// Public exports of @virtio/ring.
export type { GuestMemory } from './memory/guest-memory.js';
export { FlatGuestMemory, RegionGuestMemory, HOST_LITTLE_ENDIAN, type GuestRegion, type GuestBytes } from './memory/index.js';
export { GuestMemoryError, VirtqueueError, ChainBoundsError, type VirtqueueErrorCode } from './errors.js';
export { ChainReader, ChainWriter } from './chain/index.js';
export type {
  Segment,
  DescriptorChain,
  RingFeatures,
  QueueConfig,
  DeviceQueue,
  DriverQueue,
  UsedBuffer,
  GuestAllocator,
} from './queue/types.js';
export { createDeviceQueue, createDriverQueue, type CreateDriverQueueOptions } from './queue/factory.js';
export { BumpAllocator } from './alloc/bump.js';
export { FreeListAllocator } from './alloc/free-list.js';
export { SplitDeviceQueue } from './split/device-queue.js';
export { SplitDriverQueue, type DriverQueueOptions } from './split/driver-queue.js';
export {
  splitLayout,
  legacySplitLayout,
  isValidSplitQueueSize,
  SPLIT_MAX_QUEUE_SIZE,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_USED_F_NO_NOTIFY,
  type SplitLayout,
  type LegacySplitLayout,
} from './split/layout.js';
export * from './packed/index.js';
