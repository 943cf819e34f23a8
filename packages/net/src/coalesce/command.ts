/**
 * VIRTIO_NET_CTRL_NOTF_COAL (spec 5.1.6.5.8): TX_SET and RX_SET (VIRTIO_NET_F_NOTF_COAL) set
 * every transmit or receive queue; VQ_SET and VQ_GET (VIRTIO_NET_F_VQ_NOTF_COAL) one enabled
 * queue, named by vq_index. `reserved` is ignored ([net.dev.76]).
 */
import {
  VIRTIO_NET_CTRL_NOTF_COAL_RX_SET,
  VIRTIO_NET_CTRL_NOTF_COAL_TX_SET,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET,
} from '../protocol.js';
import type { CtrlReply } from '../ctrl/reply.js';
import type { Notifier } from './notifier.js';

/** struct virtio_net_ctrl_coal, in bytes. */
const COAL_SIZE = 8;
/** struct virtio_net_ctrl_coal_vq, in bytes. */
const COAL_VQ_SIZE = 12;

export interface CoalesceTarget {
  readonly notifier: Notifier;
  /** VIRTIO_NET_F_NOTF_COAL and VIRTIO_NET_F_VQ_NOTF_COAL negotiated. */
  readonly notfCoal: boolean;
  readonly vqNotfCoal: boolean;
  /** Whether `vq` is an enabled receive or transmit queue. */
  enabled(vq: number): boolean;
}

/** Runs one VIRTIO_NET_CTRL_NOTF_COAL command; true for VIRTIO_NET_OK (VQ_GET's result in `reply`). */
export function coalesceCommand(cmd: number, data: Uint8Array, t: CoalesceTarget, reply: CtrlReply): boolean {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = t.notifier;
  switch (cmd) {
    case VIRTIO_NET_CTRL_NOTF_COAL_TX_SET:
    case VIRTIO_NET_CTRL_NOTF_COAL_RX_SET: {
      if (!t.notfCoal || data.length !== COAL_SIZE) return false;
      const p = { maxPackets: dv.getUint32(0, true), maxUsecs: dv.getUint32(4, true) };
      const rx = cmd === VIRTIO_NET_CTRL_NOTF_COAL_RX_SET;
      if (rx) n.rx = p;
      else n.tx = p;
      // The last parameters set for a queue apply, whatever command set them.
      for (let vq = rx ? 0 : 1; vq < n.queues; vq += 2) n.set(vq, p);
      return true;
    }
    case VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET: {
      if (!t.vqNotfCoal || data.length !== COAL_VQ_SIZE) return false;
      const vq = dv.getUint16(0, true);
      // [net.dev.78, 79]
      if (!t.enabled(vq)) return false;
      n.set(vq, { maxPackets: dv.getUint32(4, true), maxUsecs: dv.getUint32(8, true) });
      return true;
    }
    case VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET: {
      // vq_index, optionally followed by reserved; struct virtio_net_ctrl_coal is the result.
      if (!t.vqNotfCoal || (data.length !== 2 && data.length !== 4)) return false;
      const vq = dv.getUint16(0, true);
      if (!t.enabled(vq)) return false;
      const p = n.get(vq);
      const out = reply.view(COAL_SIZE);
      out.setUint32(0, p.maxPackets, true);
      out.setUint32(4, p.maxUsecs, true);
      return true;
    }
    default:
      return false;
  }
}
