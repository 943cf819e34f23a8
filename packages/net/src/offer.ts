/**
 * From {@link NetDeviceOptions} and the backend to what the device offers: its feature bits
 * (spec 5.1.3) and the values of struct virtio_net_config (spec 5.1.4), plus the feature
 * dependencies of spec 5.1.3.1 that FEATURES_OK is checked against.
 */
import {
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
} from '@virtio/core';
import type { NetBackend } from './backend.js';
import {
  ETH_ALEN,
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX,
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_DEVICE_STATS,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_HDRLEN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_HASH_TUNNEL,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_NOTF_COAL,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F_VQ_NOTF_COAL,
} from './protocol.js';
import type { CoalesceTimer } from './coalesce/timer.js';
import {
  VIRTIO_NET_DUPLEX_FULL,
  VIRTIO_NET_DUPLEX_HALF,
  VIRTIO_NET_DUPLEX_UNKNOWN,
  VIRTIO_NET_SPEED_UNKNOWN,
  type HashCapabilities,
} from './config.js';
import { RSS_MAX_INDIRECTION_TABLE_LENGTH, RSS_MAX_KEY_SIZE, SUPPORTED_HASH_TYPES } from './rss/state.js';
import { SUPPORTED_TUNNEL_TYPES } from './rss/tunnel.js';

export interface NetDeviceOptions {
  readonly backend: NetBackend;
  /** The device's MAC address (6 bytes, offered with VIRTIO_NET_F_MAC). Default 52:54:00:12:34:56. */
  readonly mac?: Uint8Array;
  /** Maximum MTU in bytes (68..65535), offered with VIRTIO_NET_F_MTU. Default: not offered. */
  readonly mtu?: number;
  /** Queue pairs (max_virtqueue_pairs, 1..0x8000); above 1 VIRTIO_NET_F_MQ is offered. Default 1. */
  readonly queuePairs?: number;
  /** Maximum size of every queue (descriptors). Default 256. */
  readonly queueSize?: number;
  /**
   * Offer the control queue and its commands (CTRL_VQ, CTRL_RX, CTRL_RX_EXTRA, CTRL_VLAN,
   * CTRL_MAC_ADDR, GUEST_ANNOUNCE, RSS, HASH_REPORT, NOTF_COAL, VQ_NOTF_COAL, DEVICE_STATS).
   * Default true.
   */
  readonly controlQueue?: boolean;
  /** Timers of notification coalescing (microseconds). Default: the runtime's setTimeout. */
  readonly coalesceTimer?: CoalesceTimer;
  /**
   * Link speed in Mbit/s (0..0x7fffffff) and duplex, offered with VIRTIO_NET_F_SPEED_DUPLEX
   * when either is given; the other reads as unknown. They never change afterwards.
   */
  readonly speed?: number;
  readonly duplex?: 'full' | 'half';
  /** Link state at creation (VIRTIO_NET_S_LINK_UP). Default true. */
  readonly linkUp?: boolean;
  /** Feature bits never to offer (e.g. to test a driver without MRG_RXBUF). Default none. */
  readonly withhold?: bigint;
}

/** The default MAC address, in QEMU's locally administered range. */
export const DEFAULT_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** Offloads that need the backend to carry struct virtio_net_hdr (and GUEST_HDRLEN, which only matters with them). */
export const OFFLOAD_FEATURES = featureMask(
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_GUEST_HDRLEN,
);

/** UDP segmentation: with a backend that carries it (NetBackend.uso). */
const USO_FEATURES = featureMask(VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_USO6, VIRTIO_NET_F_HOST_USO);

/** Needs the control queue and a header-carrying backend. */
const CONTROL_OFFLOAD_FEATURES = featureMask(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);

const CONTROL_FEATURES = featureMask(
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_NOTF_COAL,
  VIRTIO_NET_F_VQ_NOTF_COAL,
  VIRTIO_NET_F_DEVICE_STATS,
  VIRTIO_NET_F_HASH_TUNNEL,
);

/**
 * `[feature, ...one of these required]` (spec 5.1.3.1): a driver accepting `feature` without
 * any of the listed bits is refused at FEATURES_OK.
 */
export const FEATURE_REQUIREMENTS: readonly (readonly [number, ...number[]])[] = [
  [VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6],
  [VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6],
  [VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_GUEST_USO6, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_HOST_USO, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_VQ_NOTF_COAL, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_RSS, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_HASH_TUNNEL, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_HASH_TUNNEL, VIRTIO_NET_F_RSS, VIRTIO_NET_F_HASH_REPORT],
];

/** Whether `features` meets {@link FEATURE_REQUIREMENTS}. */
export function featureRequirementsMet(features: bigint): boolean {
  for (const [f, ...anyOf] of FEATURE_REQUIREMENTS) {
    if (hasFeature(features, f) && !anyOf.some((r) => hasFeature(features, r))) return false;
  }
  return true;
}

/** What the device offers, resolved from options. */
export interface NetOffer {
  readonly features: bigint;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly queuePairs: number;
  readonly queueSize: number;
  readonly controlQueue: boolean;
  /** speed and duplex as the configuration space holds them. */
  readonly speed: number;
  readonly duplex: number;
  readonly hash: HashCapabilities;
}

/** @throws RangeError for an out-of-range MTU (net.dev.2), queue pair count (net.dev.1) or MAC length. */
export function resolveOffer(opts: NetDeviceOptions): NetOffer {
  const mac = opts.mac ?? DEFAULT_MAC;
  if (mac.length !== ETH_ALEN) throw new RangeError(`mac must be ${ETH_ALEN} bytes`);
  const pairs = opts.queuePairs ?? 1;
  if (!Number.isInteger(pairs) || pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
    throw new RangeError(`queuePairs must be 1..0x8000, got ${pairs}`);
  }
  if (opts.mtu !== undefined && (!Number.isInteger(opts.mtu) || opts.mtu < 68 || opts.mtu > 65535)) {
    throw new RangeError(`mtu must be 68..65535, got ${opts.mtu}`);
  }
  // [net.dev.10]: 0..0x7fffffff, or unknown.
  if (opts.speed !== undefined && (!Number.isInteger(opts.speed) || opts.speed < 0 || opts.speed > 0x7fffffff)) {
    throw new RangeError(`speed must be 0..0x7fffffff Mbit/s, got ${opts.speed}`);
  }
  const speedDuplex = opts.speed !== undefined || opts.duplex !== undefined;
  const control = opts.controlQueue ?? true;
  if (pairs > 1 && !control) throw new RangeError('multiqueue (queuePairs > 1) needs the control queue');
  let features =
    featureMask(
      VIRTIO_F_VERSION_1,
      VIRTIO_F_RING_PACKED,
      VIRTIO_F_INDIRECT_DESC,
      VIRTIO_F_EVENT_IDX,
      VIRTIO_NET_F_MAC,
      VIRTIO_NET_F_STATUS,
      VIRTIO_NET_F_MRG_RXBUF,
    ) |
    (opts.mtu !== undefined ? featureMask(VIRTIO_NET_F_MTU) : 0n) |
    (speedDuplex ? featureMask(VIRTIO_NET_F_SPEED_DUPLEX) : 0n) |
    (opts.backend.vnetHeader ? OFFLOAD_FEATURES : 0n) |
    (opts.backend.vnetHeader && opts.backend.uso === true ? USO_FEATURES : 0n) |
    (control ? CONTROL_FEATURES : 0n) |
    (control && opts.backend.vnetHeader ? CONTROL_OFFLOAD_FEATURES : 0n) |
    (pairs > 1 ? featureMask(VIRTIO_NET_F_MQ) : 0n);
  features &= ~((opts.withhold ?? 0n) & ~featureMask(VIRTIO_F_VERSION_1));
  // [net.dev.11]: 0x00 full, 0x01 half, 0xff unknown.
  const duplex = opts.duplex === 'full' ? VIRTIO_NET_DUPLEX_FULL : opts.duplex === 'half' ? VIRTIO_NET_DUPLEX_HALF : VIRTIO_NET_DUPLEX_UNKNOWN;
  const rss = hasFeature(features, VIRTIO_NET_F_RSS);
  const hashing = rss || hasFeature(features, VIRTIO_NET_F_HASH_REPORT);
  // [net.dev.7, 8]
  const hash: HashCapabilities = {
    maxKeySize: hashing ? RSS_MAX_KEY_SIZE : 0,
    maxIndirectionTableLength: rss ? RSS_MAX_INDIRECTION_TABLE_LENGTH : 0,
    supportedHashTypes: hashing ? SUPPORTED_HASH_TYPES : 0,
    supportedTunnelTypes: hasFeature(features, VIRTIO_NET_F_HASH_TUNNEL) ? SUPPORTED_TUNNEL_TYPES : 0,
  };
  return {
    hash,
    features,
    mac,
    mtu: opts.mtu ?? 0,
    queuePairs: pairs,
    queueSize: opts.queueSize ?? 256,
    controlQueue: control,
    speed: opts.speed ?? VIRTIO_NET_SPEED_UNKNOWN,
    duplex,
  };
}
