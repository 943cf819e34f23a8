// Public exports of @virtio/ring.
export type { GuestMemory } from './memory/guest-memory.js';
export { FlatGuestMemory, RegionGuestMemory, HOST_LITTLE_ENDIAN, type GuestRegion, type GuestBytes } from './memory/index.js';
export { GuestMemoryError, VirtqueueError, type VirtqueueErrorCode } from './errors.js';
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
