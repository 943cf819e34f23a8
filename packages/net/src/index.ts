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
export { NetDriver, NET_CONTROL_EXTRA_FEATURES, NET_DRIVER_FEATURES, NET_OFFLOAD_FEATURES, type NetDriverOptions } from './driver.js';
export { Toeplitz, TOEPLITZ_KEY_SIZE, TOEPLITZ_MAX_INPUT } from './rss/toeplitz.js';
export { RSS_MAX_INDIRECTION_TABLE_LENGTH, RSS_MAX_KEY_SIZE, SUPPORTED_HASH_TYPES } from './rss/state.js';
export {
  SUPPORTED_TUNNEL_TYPES,
  VIRTIO_NET_HASH_TUNNEL_TYPE_ALL,
  VIRTIO_NET_HASH_TUNNEL_TYPE_GENEVE,
  VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2784,
  VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2890,
  VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_7676,
  VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_UDP,
  VIRTIO_NET_HASH_TUNNEL_TYPE_IPIP,
  VIRTIO_NET_HASH_TUNNEL_TYPE_NVGRE,
  VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN,
  VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN_GPE,
} from './rss/tunnel.js';
export type { RssConfig, RssLimits } from './rss/encode.js';
export type { CoalesceParams } from './coalesce/notifier.js';
export { systemTimer, type CoalesceTimer } from './coalesce/timer.js';
export { SUPPORTED_STATS_TYPES } from './stats/types.js';
export type { StatsReply, StatsRequest } from './stats/decode.js';
export { NetDriverError, type NetDriverErrorCode } from './errors.js';
export { CallbackBackend, type CallbackBackendOptions } from './backends/callback.js';
export { createPair, type PairOptions } from './backends/pair.js';
