// Public exports of @virtio/mmio.
export { MmioTransport, type MmioTransportOptions } from './device-transport.js';
export {
  MmioDriverTransport,
  probeMmio,
  QUEUE_RESET_POLL_LIMIT,
  type MmioRegisters,
  type MmioProbeResult,
  type MmioProbeFailure,
  type MmioSharedMemory,
} from './driver-transport.js';
export { legacyQueueAddresses, type LegacyQueueAddresses } from './legacy-queue.js';
export {
  MmioReg,
  MMIO_MAGIC,
  MMIO_VERSION,
  MMIO_LEGACY_VERSION,
  VIRTIO_MMIO_INT_VRING,
  VIRTIO_MMIO_INT_CONFIG,
} from './registers.js';
