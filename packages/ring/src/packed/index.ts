// The packed virtqueue (spec 2.8), device side and driver side.
export { PackedDeviceQueue } from './device-queue.js';
export { PackedDriverQueue, type PackedDriverOptions } from './driver-queue.js';
export {
  PACKED_MAX_QUEUE_SIZE,
  VIRTQ_DESC_F_AVAIL,
  VIRTQ_DESC_F_USED,
  RING_EVENT_FLAGS_ENABLE,
  RING_EVENT_FLAGS_DISABLE,
  RING_EVENT_FLAGS_DESC,
} from './layout.js';
