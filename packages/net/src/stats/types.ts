/**
 * The statistics types this device keeps (spec 5.1.6.5.9): for each, its bit in
 * types_bitmap, its reply type, the queue kind it is valid for, where its le64 counters lie in
 * a queue's counters and the features it needs.
 */
import type { Negotiated } from '../negotiated.js';
import {
  VIRTIO_NET_STATS_TYPE_CVQ,
  VIRTIO_NET_STATS_TYPE_REPLY_CVQ,
  VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC,
  VIRTIO_NET_STATS_TYPE_REPLY_RX_CSUM,
  VIRTIO_NET_STATS_TYPE_REPLY_RX_GSO,
  VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC,
  VIRTIO_NET_STATS_TYPE_REPLY_TX_CSUM,
  VIRTIO_NET_STATS_TYPE_REPLY_TX_GSO,
  VIRTIO_NET_STATS_TYPE_RX_BASIC,
  VIRTIO_NET_STATS_TYPE_RX_CSUM,
  VIRTIO_NET_STATS_TYPE_RX_GSO,
  VIRTIO_NET_STATS_TYPE_TX_BASIC,
  VIRTIO_NET_STATS_TYPE_TX_CSUM,
  VIRTIO_NET_STATS_TYPE_TX_GSO,
} from '../protocol.js';
import { BASIC_COUNTERS, CVQ_COUNTERS, RX_CSUM_VALID, RX_GSO_PACKETS, TX_CSUM_NONE, TX_GSO_PACKETS } from './counters.js';

export interface StatsType {
  /** Bit in types_bitmap / supported_stats_types. */
  readonly bit: bigint;
  /** virtio_net_stats_reply_hdr.type */
  readonly reply: number;
  readonly queue: 'rx' | 'tx' | 'cvq';
  /** First counter and number of counters (le64 each after the reply header). */
  readonly first: number;
  readonly count: number;
  /** Whether the features it needs were negotiated. */
  readonly available: (neg: Negotiated) => boolean;
}

export const STATS_TYPES: readonly StatsType[] = [
  { bit: VIRTIO_NET_STATS_TYPE_RX_BASIC, reply: VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC, queue: 'rx', first: 0, count: BASIC_COUNTERS, available: () => true },
  { bit: VIRTIO_NET_STATS_TYPE_RX_CSUM, reply: VIRTIO_NET_STATS_TYPE_REPLY_RX_CSUM, queue: 'rx', first: RX_CSUM_VALID, count: 4, available: (n) => n.guest.csum },
  { bit: VIRTIO_NET_STATS_TYPE_RX_GSO, reply: VIRTIO_NET_STATS_TYPE_REPLY_RX_GSO, queue: 'rx', first: RX_GSO_PACKETS, count: 4, available: (n) => n.guest.tso4 || n.guest.tso6 },
  { bit: VIRTIO_NET_STATS_TYPE_TX_BASIC, reply: VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC, queue: 'tx', first: 0, count: BASIC_COUNTERS, available: () => true },
  { bit: VIRTIO_NET_STATS_TYPE_TX_CSUM, reply: VIRTIO_NET_STATS_TYPE_REPLY_TX_CSUM, queue: 'tx', first: TX_CSUM_NONE, count: 2, available: (n) => n.host.csum },
  {
    bit: VIRTIO_NET_STATS_TYPE_TX_GSO,
    reply: VIRTIO_NET_STATS_TYPE_REPLY_TX_GSO,
    queue: 'tx',
    first: TX_GSO_PACKETS,
    count: 6,
    available: (n) => n.host.tso4 || n.host.tso6 || n.host.uso4,
  },
  { bit: VIRTIO_NET_STATS_TYPE_CVQ, reply: VIRTIO_NET_STATS_TYPE_REPLY_CVQ, queue: 'cvq', first: 0, count: CVQ_COUNTERS, available: () => true },
];

/** Every type this device can keep. */
export const SUPPORTED_STATS_TYPES = STATS_TYPES.reduce((a, t) => a | t.bit, 0n);

/** The types available with the negotiated features: what VIRTIO_NET_CTRL_STATS_QUERY reports. */
export function availableStatsTypes(neg: Negotiated): bigint {
  return STATS_TYPES.reduce((a, t) => (t.available(neg) ? a | t.bit : a), 0n);
}
