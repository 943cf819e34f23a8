/**
 * VIRTIO_NET_CTRL_STATS (spec 5.1.6.5.9, VIRTIO_NET_F_DEVICE_STATS): the capability query and
 * the statistics replies of the receive, transmit and control queues (basic statistics only).
 */
import {
  VIRTIO_NET_CTRL_STATS_GET,
  VIRTIO_NET_CTRL_STATS_QUERY,
  VIRTIO_NET_STATS_TYPE_CVQ,
  VIRTIO_NET_STATS_TYPE_REPLY_CVQ,
  VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC,
  VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC,
  VIRTIO_NET_STATS_TYPE_RX_BASIC,
  VIRTIO_NET_STATS_TYPE_TX_BASIC,
} from '../protocol.js';
import { CVQ_COUNTERS, QUEUE_COUNTERS, type DeviceCounters } from './counters.js';
import type { CtrlReply } from '../ctrl/reply.js';

/** supported_stats_types: the statistics this device keeps. */
export const SUPPORTED_STATS_TYPES = VIRTIO_NET_STATS_TYPE_RX_BASIC | VIRTIO_NET_STATS_TYPE_TX_BASIC | VIRTIO_NET_STATS_TYPE_CVQ;

/** struct virtio_net_stats_reply_hdr, in bytes. */
export const STATS_REPLY_HDR_SIZE = 8;
/** One struct virtio_net_ctrl_queue_stats entry: vq_index, reserved[3], types_bitmap, in bytes. */
export const STATS_REQUEST_SIZE = 16;

const RX_BASIC_SIZE = STATS_REPLY_HDR_SIZE + 8 * QUEUE_COUNTERS;
const CVQ_SIZE = STATS_REPLY_HDR_SIZE + 8 * CVQ_COUNTERS;

/**
 * Runs one VIRTIO_NET_CTRL_STATS command: `data` is its command-specific-data, `queues` the
 * activation's queue count (2N receive/transmit queues, then controlq). Returns true with the
 * command-specific-result in `reply`, false for VIRTIO_NET_ERR.
 */
export function statsCommand(cmd: number, data: Uint8Array, counters: DeviceCounters, reply: CtrlReply): boolean {
  if (cmd === VIRTIO_NET_CTRL_STATS_QUERY) {
    // [net.dev.85]: struct virtio_net_stats_capabilities { le64 supported_stats_types[1]; }
    if (data.length !== 0) return false;
    reply.view(8).setBigUint64(0, SUPPORTED_STATS_TYPES, true);
    return true;
  }
  if (cmd !== VIRTIO_NET_CTRL_STATS_GET || data.length === 0 || data.length % STATS_REQUEST_SIZE !== 0) return false;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ctrl = counters.queues;
  // [net.dev.86]: every entry is checked before anything is replied; one bad entry fails all.
  let size = 0;
  for (let at = 0; at < data.length; at += STATS_REQUEST_SIZE) {
    const vq = dv.getUint16(at, true);
    const types = dv.getBigUint64(at + 8, true);
    if (vq > ctrl || types === 0n) return false;
    const valid = vq === ctrl ? VIRTIO_NET_STATS_TYPE_CVQ : vq % 2 === 0 ? VIRTIO_NET_STATS_TYPE_RX_BASIC : VIRTIO_NET_STATS_TYPE_TX_BASIC;
    if (types & ~valid) return false;
    size += vq === ctrl ? CVQ_SIZE : RX_BASIC_SIZE;
  }
  const out = reply.view(size);
  let pos = 0;
  for (let at = 0; at < data.length; at += STATS_REQUEST_SIZE) {
    const vq = dv.getUint16(at, true);
    const cvq = vq === ctrl;
    const len = cvq ? CVQ_SIZE : RX_BASIC_SIZE;
    // [net.dev.87]: type, vq_index and the size of this reply in its header.
    out.setUint8(pos, cvq ? VIRTIO_NET_STATS_TYPE_REPLY_CVQ : vq % 2 === 0 ? VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC : VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC);
    out.setUint8(pos + 1, 0);
    out.setUint16(pos + 2, vq, true);
    out.setUint16(pos + 4, 0, true);
    out.setUint16(pos + 6, len, true);
    if (cvq) counters.writeCvq(out, pos + STATS_REPLY_HDR_SIZE);
    else counters.write(vq, 0, QUEUE_COUNTERS, out, pos + STATS_REPLY_HDR_SIZE);
    pos += len;
  }
  return true;
}
