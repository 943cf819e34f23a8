/**
 * VIRTIO_NET_CTRL_STATS (spec 5.1.6.5.9, VIRTIO_NET_F_DEVICE_STATS): the capability query and
 * the statistics replies of the receive, transmit and control queues.
 */
import { VIRTIO_NET_CTRL_STATS_GET, VIRTIO_NET_CTRL_STATS_QUERY } from '../protocol.js';
import type { CtrlReply } from '../ctrl/reply.js';
import type { Negotiated } from '../negotiated.js';
import type { DeviceCounters } from './counters.js';
import { availableStatsTypes, STATS_TYPES } from './types.js';

/** struct virtio_net_stats_reply_hdr, in bytes. */
export const STATS_REPLY_HDR_SIZE = 8;
/** One struct virtio_net_ctrl_queue_stats entry: vq_index, reserved[3], types_bitmap, in bytes. */
export const STATS_REQUEST_SIZE = 16;

/**
 * Runs one VIRTIO_NET_CTRL_STATS command: `data` is its command-specific-data. Returns true
 * with the command-specific-result in `reply`, false for VIRTIO_NET_ERR.
 */
export function statsCommand(cmd: number, data: Uint8Array, neg: Negotiated, counters: DeviceCounters, reply: CtrlReply): boolean {
  const available = availableStatsTypes(neg);
  if (cmd === VIRTIO_NET_CTRL_STATS_QUERY) {
    // [net.dev.85]: struct virtio_net_stats_capabilities { le64 supported_stats_types[1]; }
    if (data.length !== 0) return false;
    reply.view(8).setBigUint64(0, available, true);
    return true;
  }
  if (cmd !== VIRTIO_NET_CTRL_STATS_GET || data.length === 0 || data.length % STATS_REQUEST_SIZE !== 0) return false;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ctrl = counters.queues;
  // [net.dev.86]: every entry is checked before anything is replied; one bad entry fails all:
  // a vq_index out of range, unknown types, types not valid for the queue or not negotiated.
  let size = 0;
  for (let at = 0; at < data.length; at += STATS_REQUEST_SIZE) {
    const vq = dv.getUint16(at, true);
    const types = dv.getBigUint64(at + 8, true);
    if (vq > ctrl || types === 0n || types & ~available) return false;
    const kind = vq === ctrl ? 'cvq' : vq % 2 === 0 ? 'rx' : 'tx';
    for (const t of STATS_TYPES) {
      if (!(types & t.bit)) continue;
      if (t.queue !== kind) return false;
      size += STATS_REPLY_HDR_SIZE + 8 * t.count;
    }
  }
  const out = reply.view(size);
  let pos = 0;
  for (let at = 0; at < data.length; at += STATS_REQUEST_SIZE) {
    const vq = dv.getUint16(at, true);
    const types = dv.getBigUint64(at + 8, true);
    for (const t of STATS_TYPES) {
      if (!(types & t.bit)) continue;
      const len = STATS_REPLY_HDR_SIZE + 8 * t.count;
      // [net.dev.87]: type, vq_index and the size of this reply in its header.
      out.setUint8(pos, t.reply);
      out.setUint16(pos + 2, vq, true);
      out.setUint16(pos + 6, len, true);
      if (t.queue === 'cvq') counters.writeCvq(out, pos + STATS_REPLY_HDR_SIZE);
      else counters.write(vq, t.first, t.count, out, pos + STATS_REPLY_HDR_SIZE);
      pos += len;
    }
  }
  return true;
}
