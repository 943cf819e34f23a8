// Public exports of @virtio/net.
export * from './protocol.js';
export {
  NetConfigOffset,
  NET_CONFIG_SIZE,
  VIRTIO_NET_SPEED_UNKNOWN,
  VIRTIO_NET_DUPLEX_FULL,
  VIRTIO_NET_DUPLEX_HALF,
  VIRTIO_NET_DUPLEX_UNKNOWN,
} from './config.js';
export type { NetBackend, NetReceiver, NetOffloads } from './backend.js';
export type { NetStats } from './stats/frames.js';
export { NetDevice } from './device.js';
export { DEFAULT_MAC, FEATURE_REQUIREMENTS, type NetDeviceOptions } from './offer.js';
export { MAC_TABLE_ENTRIES } from './filter.js';
export { CTRL_MAX_DATA } from './ctrl/execute.js';
export { TX_MAX_FRAME } from './tx.js';
export { decodeNetHeader, encodeNetHeader, PLAIN_HEADER, type NetHeader } from './header.js';
export { NetDriver, NET_DRIVER_FEATURES, NET_OFFLOAD_FEATURES, type NetDriverOptions } from './driver.js';
export { NetDriverError, type NetDriverErrorCode } from './errors.js';
export { CallbackBackend, type CallbackBackendOptions } from './backends/callback.js';
export { createPair, type PairOptions } from './backends/pair.js';
