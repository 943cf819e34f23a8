/**
 * The transmit path (spec 5.1.6.2 "Packet Transmission"): each chain's device-readable part is
 * struct virtio_net_hdr followed by the frame; the frame goes to the backend as zero-copy views
 * of guest memory, with the header (made valid for the negotiated offloads) when the backend
 * carries headers. Chains are returned with 0 bytes written, and the driver is notified once
 * per drained batch.
 */
import type { ActivateContext } from '@virtio/core';
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';
import type { NetBackend } from './backend.js';
import type { Notifier } from './coalesce/notifier.js';
import { gsoAllowed } from './gso.js';
import type { Negotiated } from './negotiated.js';
import { NetHdrOffset as H, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_SIZE } from './protocol.js';
import {
  BYTES,
  DROPS,
  DROPS_DETAIL,
  PACKETS,
  TX_CSUM_NONE,
  TX_GSO_BYTES,
  TX_GSO_PACKETS,
  TX_GSO_SEGMENTS,
  TX_GSO_SEGMENTS_BYTES,
  TX_NEEDS_CSUM,
  type DeviceCounters,
} from './stats/counters.js';
import type { NetStats } from './stats/frames.js';

/** Largest frame accepted from the driver, in bytes (a 64 KiB GSO packet plus Ethernet and VLAN headers). */
export const TX_MAX_FRAME = 65536 + 18;

export class TxPath {
  readonly #ctx: ActivateContext;
  readonly #neg: Negotiated;
  readonly #backend: NetBackend;
  readonly #stats: NetStats;
  readonly #notifier: Notifier;
  readonly #counters: DeviceCounters;
  readonly #hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
  readonly #hdrView = new DataView(this.#hdr.buffer);
  readonly #views: Uint8Array[] = [];
  #retired = false;

  constructor(ctx: ActivateContext, neg: Negotiated, backend: NetBackend, stats: NetStats, notifier: Notifier, counters: DeviceCounters) {
    this.#ctx = ctx;
    this.#neg = neg;
    this.#backend = backend;
    this.#stats = stats;
    this.#notifier = notifier;
    this.#counters = counters;
  }

  /** Device reset: no more guest memory access. */
  retire(): void {
    this.#retired = true;
  }

  /** Transmits every available chain of queue `index`, then notifies once (subject to coalescing). Never throws. */
  drain(index: number): void {
    const ctx = this.#ctx;
    const q = ctx.queues[index];
    if (this.#retired || !q) return;
    try {
      let pushed = 0;
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) {
          this.#send(chain, index);
          q.push(chain, 0);
          pushed++;
          if (this.#retired) return; // the backend's send reset the device
        }
        if (!q.enableNotifications()) break;
      }
      if (pushed > 0) this.#notifier.published(index, pushed, q.needsNotification());
    } catch (err) {
      this.#retired = true;
      ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #send(chain: DescriptorChain, index: number): void {
    const hdrSize = this.#neg.hdrSize;
    const frameLen = chain.readableLength - hdrSize;
    if (frameLen <= 0 || frameLen > TX_MAX_FRAME) {
      this.#malformed(index);
      return;
    }
    const mem = this.#ctx.memory;
    const h = this.#hdr;
    h.fill(0);
    const views = this.#views;
    views.length = 0;
    let skip = hdrSize;
    let hpos = 0;
    for (const seg of chain.readable) {
      let addr = seg.addr;
      let len = seg.len;
      if (skip > 0) {
        const n = Math.min(skip, len);
        const hn = Math.min(n, H.num_buffers - hpos);
        if (hn > 0) mem.read(addr, h.subarray(hpos, hpos + hn));
        hpos += n;
        skip -= n;
        addr += n;
        len -= n;
      }
      if (len > 0) for (const v of mem.views(addr, len)) views.push(v);
    }
    if (!this.#sanitize(h)) {
      this.#malformed(index);
      return;
    }
    this.#backend.send(this.#backend.vnetHeader ? h : null, views);
    this.#stats.txFrames++;
    this.#stats.txBytes += frameLen;
    this.#count(index, h, frameLen);
  }

  /** Basic, checksum and GSO statistics of a sent frame. */
  #count(index: number, h: Uint8Array, frameLen: number): void {
    const c = this.#counters;
    c.add(index, PACKETS, 1);
    c.add(index, BYTES, frameLen);
    c.add(index, h[H.flags] & VIRTIO_NET_HDR_F_NEEDS_CSUM ? TX_NEEDS_CSUM : TX_CSUM_NONE, 1);
    if (h[H.gso_type] === VIRTIO_NET_HDR_GSO_NONE) return;
    // The segments the backend will cut: gso_size payload bytes each behind hdr_len header bytes.
    const v = this.#hdrView;
    const hdrLen = Math.min(v.getUint16(H.hdr_len, true), frameLen);
    const gsoSize = v.getUint16(H.gso_size, true);
    const payload = frameLen - hdrLen;
    const segments = gsoSize > 0 ? Math.max(1, Math.ceil(payload / gsoSize)) : 1;
    c.add(index, TX_GSO_PACKETS, 1);
    c.add(index, TX_GSO_BYTES, frameLen);
    c.add(index, TX_GSO_SEGMENTS, segments);
    c.add(index, TX_GSO_SEGMENTS_BYTES, payload + segments * hdrLen);
  }

  #malformed(index: number): void {
    this.#stats.txErrors++;
    this.#counters.add(index, DROPS, 1);
    this.#counters.add(index, DROPS_DETAIL, 1);
  }

  /**
   * Makes the driver's header safe to pass on: unknown flag bits ignored [net.dev.15],
   * csum_start/csum_offset unused without NEEDS_CSUM [net.dev.16], num_buffers 0. Returns
   * false for a packet the device must not send: a gso_type the driver did not negotiate, or
   * GSO without NEEDS_CSUM.
   */
  #sanitize(h: Uint8Array): boolean {
    const host = this.#neg.host;
    const gso = h[H.gso_type];
    let flags = h[H.flags] & VIRTIO_NET_HDR_F_NEEDS_CSUM;
    if (!host.csum) flags = 0;
    h[H.flags] = flags;
    if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
      this.#hdrView.setUint32(H.csum_start, 0, true);
      if (gso !== VIRTIO_NET_HDR_GSO_NONE) return false;
    }
    if (!gsoAllowed(gso, host)) return false;
    if (gso === VIRTIO_NET_HDR_GSO_NONE) this.#hdrView.setUint32(H.hdr_len, 0, true);
    this.#hdrView.setUint16(H.num_buffers, 0, true);
    return true;
  }
}
