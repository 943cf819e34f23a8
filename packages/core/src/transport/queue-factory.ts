// The default DeviceQueueFactory: @virtio/ring picks split or packed from config.packed.
export { createDeviceQueue } from '@virtio/ring';
