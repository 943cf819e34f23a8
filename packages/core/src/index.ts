// Public exports of @virtio/core.
export type {
  VirtioDevice,
  ActivateContext,
  InterruptSink,
  DeviceHost,
  SharedMemoryRegion,
} from './device.js';
