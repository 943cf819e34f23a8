/**
 * The driver side of VIRTIO_NET_CTRL_STATS_GET (spec 5.1.6.5.9): the request
 * (struct virtio_net_ctrl_queue_stats) and the replies, each behind a
 * struct virtio_net_stats_reply_hdr.
 */
import { NetDriverError } from '../errors.js';
import { VIRTIO_NET_STATS_TYPE_CVQ } from '../protocol.js';
import { STATS_REPLY_HDR_SIZE, STATS_REQUEST_SIZE } from './command.js';
import { STATS_TYPES } from './types.js';

/** One statistics request: a virtqueue and VIRTIO_NET_STATS_TYPE_* bits. */
export interface StatsRequest {
  readonly vq: number;
  readonly types: bigint;
}

/** One statistics reply: its type (VIRTIO_NET_STATS_TYPE_REPLY_*), virtqueue and le64 counters in the spec's order. */
export interface StatsReply {
  readonly type: number;
  readonly vq: number;
  readonly counters: readonly bigint[];
}

/** Reply sizes (header included) of the types this driver knows, by type bit. */
const REPLY_SIZE = new Map<bigint, number>(STATS_TYPES.map((t) => [t.bit, STATS_REPLY_HDR_SIZE + 8 * t.count]));

/** Types valid for a receiveq, a transmitq and the controlq. */
const RX_TYPES = 0xffffn;
const TX_TYPES = 0xffffn << 16n;

/**
 * Encodes `requests` and returns the room the replies need.
 * @throws NetDriverError 'not-allowed' for types the device did not report (net.drv.74), types
 *   not valid for the virtqueue (net.drv.75), or types this driver cannot size a reply for
 */
export function encodeStatsRequest(requests: readonly StatsRequest[], supported: bigint, ctrlIndex: number, queues: number): { data: Uint8Array; replySize: number } {
  const data = new Uint8Array(requests.length * STATS_REQUEST_SIZE);
  const dv = new DataView(data.buffer);
  let replySize = 0;
  requests.forEach((r, i) => {
    if (r.types === 0n || (r.types & ~supported) !== 0n) {
      throw new NetDriverError('not-allowed', `[net.drv.74] types 0x${r.types.toString(16)} were not all reported by VIRTIO_NET_CTRL_STATS_QUERY`);
    }
    const valid = r.vq === ctrlIndex ? VIRTIO_NET_STATS_TYPE_CVQ : r.vq < queues ? (r.vq % 2 === 0 ? RX_TYPES : TX_TYPES) : 0n;
    if ((r.types & ~valid) !== 0n) throw new NetDriverError('not-allowed', `[net.drv.75] types 0x${r.types.toString(16)} are not valid for virtqueue ${r.vq}`);
    for (let bit = 1n; bit <= r.types; bit <<= 1n) {
      if (!(r.types & bit)) continue;
      const size = REPLY_SIZE.get(bit);
      if (size === undefined) throw new NetDriverError('not-allowed', `statistics type 0x${bit.toString(16)} is unknown to this driver`);
      // [net.drv.76]: room for every reply.
      replySize += size;
    }
    dv.setUint16(i * STATS_REQUEST_SIZE, r.vq, true);
    dv.setBigUint64(i * STATS_REQUEST_SIZE + 8, r.types, true);
  });
  return { data, replySize };
}

/** Splits a command-specific-result into replies by their headers' size; a truncated reply ends the list. */
export function decodeStatsReplies(result: Uint8Array): StatsReply[] {
  const dv = new DataView(result.buffer, result.byteOffset, result.byteLength);
  const replies: StatsReply[] = [];
  for (let at = 0; at + STATS_REPLY_HDR_SIZE <= result.length; ) {
    const size = dv.getUint16(at + 6, true);
    if (size < STATS_REPLY_HDR_SIZE || at + size > result.length) break;
    const counters: bigint[] = [];
    for (let o = at + STATS_REPLY_HDR_SIZE; o + 8 <= at + size; o += 8) counters.push(dv.getBigUint64(o, true));
    replies.push({ type: dv.getUint8(at), vq: dv.getUint16(at + 2, true), counters });
    at += size;
  }
  return replies;
}
