/**
 * The receive path of one activation (spec 5.1.6.3 "Receiving Packets", 5.1.6.4 "Processing
 * of Incoming Packets"): filters and prepares each frame's struct virtio_net_hdr, places the
 * frame in the driver's receive buffers (one chain, or several with VIRTIO_NET_F_MRG_RXBUF),
 * and holds frames it accepted while the driver has no buffers posted: the backend is paused
 * then, and resumed once the queued frames are delivered.
 */
import type { ActivateContext } from '@virtio/core';
import type { NetOffloads } from './backend.js';
import type { DescriptorChain, DeviceQueue, GuestMemory, Segment } from '@virtio/ring';
import { CHECKSUM_BAD, CHECKSUM_OK, CHECKSUM_UNKNOWN, completeChecksum, verifyTransportChecksum } from './checksum.js';
import type { Notifier } from './coalesce/notifier.js';
import type { NetConfig } from './config.js';
import type { RxFilter } from './filter.js';
import { gsoAllowed } from './gso.js';
import { headersLength } from './hdrlen.js';
import type { Negotiated } from './negotiated.js';
import {
  ETH_HLEN,
  NetHdrOffset as H,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_HASH_SIZE,
  VIRTIO_NET_HASH_REPORT_NONE,
  VLAN_HLEN,
} from './protocol.js';
import type { RxHash } from './rss/state.js';
import {
  BYTES,
  DROPS,
  DROPS_DETAIL,
  PACKETS,
  RX_CSUM_BAD,
  RX_CSUM_NONE,
  RX_CSUM_VALID,
  RX_GSO_BYTES,
  RX_GSO_PACKETS,
  RX_NEEDS_CSUM,
  type DeviceCounters,
} from './stats/counters.js';
import type { NetStats } from './stats/frames.js';

/** Flow control towards the backend. */
export interface RxFlow {
  pause(): void;
  resume(): void;
}

/** What the receive path reports to and steers by, shared with the control queue. */
export interface RxShared {
  readonly hash: RxHash;
  readonly notifier: Notifier;
  readonly counters: DeviceCounters;
  /** The backend validated the checksums it marks VIRTIO_NET_HDR_F_DATA_VALID (NetBackend.checksumsValidated). */
  readonly checksumsValidated: boolean;
}

const OK = 0;
const NO_BUFFERS = 1;
const DROPPED = 2;
type Outcome = typeof OK | typeof NO_BUFFERS | typeof DROPPED;

/** A frame accepted while the driver had no buffers: prepared header and frame, copied. */
interface Pending {
  readonly pair: number;
  readonly header: Uint8Array;
  readonly frame: Uint8Array;
}

export class RxPath {
  /** Queue pairs receive steering spreads frames over (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET); 1 after reset. */
  activePairs = 1;
  /** Offloads received frames may use: as negotiated, then as VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET says. */
  guestOffloads: NetOffloads;
  readonly #ctx: ActivateContext;
  readonly #memory: GuestMemory;
  readonly #neg: Negotiated;
  readonly #config: NetConfig;
  readonly #filter: RxFilter;
  readonly #flow: RxFlow;
  readonly #stats: NetStats;
  /** Largest frame (without Ethernet header) when VIRTIO_NET_F_MTU was negotiated, else Infinity. */
  readonly #mtu: number;
  /** Queue index of receiveqN+1 by pair. */
  readonly #index: readonly number[];
  /** Chains popped for a packet that did not fit yet (MRG_RXBUF) or was too small for one (no MRG_RXBUF), by pair. */
  readonly #held: DescriptorChain[][];
  readonly #heldBytes: number[];
  /** Packets pushed per pair since the last notification decision. */
  readonly #pushed: number[];
  readonly #hash: RxHash;
  readonly #notifier: Notifier;
  readonly #counters: DeviceCounters;
  /** A hash is calculated per packet (VIRTIO_NET_F_RSS or VIRTIO_NET_F_HASH_REPORT). */
  readonly #hashing: boolean;
  readonly #checksumsValidated: boolean;
  /** The frame being received claimed DATA_VALID with a wrong checksum (rx_csum_bad). */
  #csumBad = false;
  readonly #pending: Pending[] = [];
  #pendingHead = 0;
  #paused = false;
  #broken = false;
  #draining = false;
  #again = false;
  readonly #hdr = new Uint8Array(VIRTIO_NET_HDR_HASH_SIZE);
  readonly #hdrView = new DataView(this.#hdr.buffer);
  #scratch = new Uint8Array(2048);

  constructor(
    ctx: ActivateContext,
    neg: Negotiated,
    config: NetConfig,
    filter: RxFilter,
    flow: RxFlow,
    stats: NetStats,
    rxIndexes: readonly number[],
    mtu: number,
    shared: RxShared,
  ) {
    this.#hash = shared.hash;
    this.#notifier = shared.notifier;
    this.#counters = shared.counters;
    this.#hashing = neg.rss || neg.hashReport;
    this.#checksumsValidated = shared.checksumsValidated;
    this.guestOffloads = neg.guest;
    this.#ctx = ctx;
    this.#memory = ctx.memory;
    this.#neg = neg;
    this.#config = config;
    this.#filter = filter;
    this.#flow = flow;
    this.#stats = stats;
    this.#mtu = neg.mtu ? mtu : Infinity;
    this.#index = rxIndexes;
    this.#held = rxIndexes.map(() => []);
    this.#heldBytes = rxIndexes.map(() => 0);
    this.#pushed = rxIndexes.map(() => 0);
    // The driver notifies receive queues only while the device waits for buffers.
    for (const i of rxIndexes) ctx.queues[i]?.disableNotifications();
  }

  /** Receive queues this activation has (max_virtqueue_pairs with VIRTIO_NET_F_MQ, else 1). */
  get pairCount(): number {
    return this.#index.length;
  }

  /** Frames accepted and waiting for receive buffers. */
  get pendingFrames(): number {
    return this.#pending.length - this.#pendingHead;
  }

  /**
   * A frame from the backend. `more` defers the used buffer notification to a later call
   * (a burst). Never throws.
   */
  receive(frame: Uint8Array, header: Uint8Array | null, more: boolean): void {
    if (this.#broken) {
      this.#stats.rxErrors++;
      return;
    }
    if (frame.length < ETH_HLEN) {
      this.#stats.rxErrors++;
      return;
    }
    if (!(this.#config.status & 1) || !this.#filter.accepts(frame, this.#config.mac)) {
      this.#stats.rxFiltered++;
      return;
    }
    const data = this.#prepare(frame, header);
    if (data === null) {
      this.#stats.rxErrors++;
      return;
    }
    let report = VIRTIO_NET_HASH_REPORT_NONE;
    if (this.#hashing) report = this.#hash.hasher.compute(data);
    if (this.#neg.hashReport) {
      // Spec 5.1.6.4.5: hash_value and hash_report, or VIRTIO_NET_HASH_REPORT_NONE without a hash.
      this.#hdrView.setUint32(H.hash_value, report === VIRTIO_NET_HASH_REPORT_NONE ? 0 : this.#hash.hasher.value, true);
      this.#hdrView.setUint16(H.hash_report, report, true);
    }
    const pair = this.#hash.rss ? this.#hash.select(report) : this.#steer(data);
    if (this.#csumBad) this.#counters.add(this.#index[pair], RX_CSUM_BAD, 1);
    if (this.pendingFrames > 0) {
      this.#enqueue(pair, data);
    } else if (this.#deliver(pair, this.#hdr, data) === NO_BUFFERS) {
      // Accepted: it waits, and the burst ends here (the drain notifies and pauses the backend).
      this.#enqueue(pair, data);
      this.#drain();
      return;
    }
    if (!more) this.flush();
  }

  /** Available buffer notification on receiveq(pair+1): deliver what waits. */
  buffersPosted(pair: number): void {
    this.#ctx.queues[this.#index[pair]]?.disableNotifications();
    this.#drain();
  }

  /**
   * receiveq(pair+1) stopped (disabled or reset by the driver): its held chains are forgotten,
   * nothing more is written to them.
   */
  queueStopped(pair: number): void {
    this.#held[pair].length = 0;
    this.#heldBytes[pair] = 0;
    this.#pushed[pair] = 0;
  }

  /** receiveq(pair+1) is live again: only notified while the device waits; deliver what waits. */
  queueStarted(pair: number): void {
    this.#ctx.queues[this.#index[pair]]?.disableNotifications();
    this.#drain();
  }

  /** Re-tries queued frames (after the active pair count changed). */
  retry(): void {
    this.#drain();
  }

  /** Sends the used buffer notifications the pushes since the last flush call for. */
  flush(): void {
    if (this.#broken) return;
    for (let p = 0; p < this.#pushed.length; p++) {
      const packets = this.#pushed[p];
      if (packets === 0) continue;
      this.#pushed[p] = 0;
      const q = this.#ctx.queues[this.#index[p]];
      if (q) this.#notifier.published(this.#index[p], packets, q.needsNotification());
    }
  }

  /**
   * Delivers queued frames in order until done or a queue has no buffers; then either resumes
   * the backend (all delivered) or pauses it and asks for an available buffer notification,
   * going round again when buffers arrived meanwhile. Re-entry (the driver posting buffers from
   * inside the notification this sends) is folded into the running drain.
   */
  #drain(): void {
    if (this.#broken) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = true;
    const pending = this.#pending;
    let blocked = -1;
    do {
      this.#again = false;
      blocked = -1;
      while (this.#pendingHead < pending.length && !this.#broken) {
        const p = pending[this.#pendingHead];
        const pair = p.pair < this.activePairs ? p.pair : 0;
        if (this.#deliver(pair, p.header, p.frame) === NO_BUFFERS) {
          blocked = pair;
          break;
        }
        this.#pendingHead++;
      }
      this.flush();
      if (blocked >= 0 && !this.#again && this.#awaitBuffers(blocked)) this.#again = true;
    } while (this.#again && !this.#broken);
    this.#draining = false;
    if (blocked >= 0 || this.#broken) return;
    pending.length = 0;
    this.#pendingHead = 0;
    if (this.#paused) {
      this.#paused = false;
      this.#flow.resume();
    }
  }

  /**
   * No buffers on `pair`: pauses the backend and asks for an available buffer notification.
   * Returns true when buffers arrived meanwhile (the race-free re-check): go round again.
   */
  #awaitBuffers(pair: number): boolean {
    const q = this.#ctx.queues[this.#index[pair]];
    if (!this.#paused) {
      this.#paused = true;
      this.#flow.pause();
    }
    try {
      if (q?.enableNotifications()) {
        q.disableNotifications();
        return true;
      }
    } catch (err) {
      this.#fail(err);
    }
    return false;
  }

  #enqueue(pair: number, data: Uint8Array): void {
    this.#pending.push({ pair, header: this.#hdr.slice(), frame: data.slice() });
  }

  /**
   * Fills the header scratch from the backend's header, made valid for what the driver
   * negotiated; returns the frame to deliver (a scratch copy when a checksum had to be
   * completed in software) or null to drop it.
   */
  #prepare(frame: Uint8Array, header: Uint8Array | null): Uint8Array | null {
    const h = this.#hdr;
    h.fill(0);
    this.#csumBad = false;
    let gso = VIRTIO_NET_HDR_GSO_NONE;
    let data = frame;
    if (header !== null && header.length >= H.num_buffers) {
      const guest = this.guestOffloads;
      gso = header[H.gso_type];
      let flags = header[H.flags];
      // [net.dev.32..35, 43]: no gso_type the driver did not negotiate; [net.dev.44]: GSO needs NEEDS_CSUM.
      if (!gsoAllowed(gso, guest)) return null;
      if (gso !== VIRTIO_NET_HDR_GSO_NONE && !(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) return null;
      h.set(header.subarray(0, H.num_buffers));
      if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM && !guest.csum) {
        // [net.dev.31]: without GUEST_CSUM, flags are 0 and the packet is fully checksummed.
        if (this.#scratch.length < frame.length) this.#scratch = new Uint8Array(frame.length * 2);
        data = this.#scratch.subarray(0, frame.length);
        data.set(frame);
        const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
        if (!completeChecksum(data, view.getUint16(H.csum_start, true), view.getUint16(H.csum_offset, true))) return null;
        flags &= ~VIRTIO_NET_HDR_F_NEEDS_CSUM;
      }
      // [net.dev.47]: DATA_VALID only for a checksum validated, here if the backend did not.
      if (flags & VIRTIO_NET_HDR_F_DATA_VALID && !this.#checksumsValidated) {
        const verdict = flags & VIRTIO_NET_HDR_F_NEEDS_CSUM ? CHECKSUM_UNKNOWN : verifyTransportChecksum(data);
        if (verdict !== CHECKSUM_OK) flags &= ~VIRTIO_NET_HDR_F_DATA_VALID;
        this.#csumBad = verdict === CHECKSUM_BAD;
      }
      // [net.dev.15-like hygiene, 45]: only the bits this device may set, RSC_INFO never.
      flags &= guest.csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID : 0;
      h[H.flags] = flags;
      if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) h.fill(0, H.csum_start, H.num_buffers);
      if (gso === VIRTIO_NET_HDR_GSO_NONE) h.fill(0, H.hdr_len, H.csum_start);
      else {
        // [net.dev.46]: hdr_len covers at least the headers up to the transport payload.
        const headers = headersLength(data);
        if (headers > (h[H.hdr_len] | (h[H.hdr_len + 1] << 8))) {
          h[H.hdr_len] = headers & 0xff;
          h[H.hdr_len + 1] = headers >>> 8;
        }
      }
    }
    // [net.dev.5]: no frame above the MTU unless segmented by the driver.
    if ((gso & ~VIRTIO_NET_HDR_GSO_ECN) === VIRTIO_NET_HDR_GSO_NONE) {
      const vlan = data[12] === 0x81 && data[13] === 0x00 ? VLAN_HLEN : 0;
      if (data.length > this.#mtu + ETH_HLEN + vlan) return null;
    }
    return data;
  }

  /** Receive steering: IPv4 flows spread over the active pairs by addresses and ports; others to pair 0. */
  #steer(frame: Uint8Array): number {
    const n = this.activePairs;
    if (n === 1 || frame.length < 38 || frame[12] !== 0x08 || frame[13] !== 0x00) return 0;
    let h = 0;
    for (let i = 26; i < 38; i++) h = (Math.imul(h, 31) + frame[i]) >>> 0;
    return h % n;
  }

  /** Device reset: nothing more touches guest memory; queued frames are gone with the driver's buffers. */
  retire(): void {
    this.#broken = true;
    this.#pending.length = 0;
    this.#pendingHead = 0;
  }

  #fail(err: unknown): void {
    this.#broken = true;
    this.#pending.length = 0;
    this.#pendingHead = 0;
    this.#ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }

  /** Places one frame with its prepared header into receiveq(pair+1). */
  #deliver(pair: number, header: Uint8Array, frame: Uint8Array): Outcome {
    if (this.#broken) return DROPPED;
    let q = this.#ctx.queues[this.#index[pair]];
    // [net.dev.69]: a stopped destination queue: another active one, else the packet is dropped;
    // [net.dev.73]: under RSS steering the packet is dropped.
    for (let p = 0; !q && !this.#hash.rss && p < this.activePairs; p++) if ((q = this.#ctx.queues[this.#index[p]])) pair = p;
    if (!q) {
      this.#stats.rxErrors++;
      this.#counters.add(this.#index[pair], DROPS, 1);
      return DROPPED;
    }
    try {
      return this.#neg.mrgRxbuf ? this.#deliverMerged(q, pair, header, frame) : this.#deliverOne(q, pair, header, frame);
    } catch (err) {
      this.#fail(err);
      return DROPPED;
    }
  }

  /** Without MRG_RXBUF: one chain per packet ([net.dev.26], num_buffers 1 [net.dev.27]). */
  #deliverOne(q: DeviceQueue, pair: number, header: Uint8Array, frame: Uint8Array): Outcome {
    const held = this.#held[pair];
    const chain = held.length > 0 ? held[0] : q.pop();
    if (chain === null) return NO_BUFFERS;
    const hdrSize = this.#neg.hdrSize;
    const total = hdrSize + frame.length;
    if (chain.writableLength < total) {
      // Too small for this frame: the frame is dropped, the buffer kept for the next one.
      held[0] = chain;
      this.#stats.rxErrors++;
      this.#counters.add(this.#index[pair], DROPS, 1);
      return DROPPED;
    }
    held.length = 0;
    header[H.num_buffers] = 1;
    header[H.num_buffers + 1] = 0;
    this.#scatter(chain.writable, header, hdrSize, frame, 0, total);
    q.push(chain, total);
    this.#done(pair, header, frame.length);
    return OK;
  }

  /** With MRG_RXBUF: as many chains as the packet needs, all but the last filled ([net.dev.25, 28, 29, 30]). */
  #deliverMerged(q: DeviceQueue, pair: number, header: Uint8Array, frame: Uint8Array): Outcome {
    const hdrSize = this.#neg.hdrSize;
    const total = hdrSize + frame.length;
    const held = this.#held[pair];
    while (this.#heldBytes[pair] < total) {
      const chain = q.pop();
      if (chain === null) {
        // Every buffer of the queue is held and still too small: this packet can never fit.
        if (q.inFlight >= q.size) {
          this.#stats.rxErrors++;
          this.#counters.add(this.#index[pair], DROPS, 1);
          this.#counters.add(this.#index[pair], DROPS_DETAIL, 1);
          return DROPPED;
        }
        return NO_BUFFERS;
      }
      // Spec 5.1.6.3.1: with MRG_RXBUF every receive buffer holds at least the header.
      if (chain.writableLength < hdrSize) {
        throw new Error(`receive buffer of ${chain.writableLength} bytes cannot hold the ${hdrSize}-byte header`);
      }
      held.push(chain);
      this.#heldBytes[pair] += chain.writableLength;
    }
    let used = 0;
    for (let n = 0; n < held.length; n++) {
      used += held[n].writableLength;
      if (used >= total) {
        // Chains beyond the one completing the packet stay held for the next packet.
        const count = n + 1;
        header[H.num_buffers] = count & 0xff;
        header[H.num_buffers + 1] = count >>> 8;
        let pos = 0;
        for (let i = 0; i < count; i++) {
          const c = held[i];
          const n2 = Math.min(c.writableLength, total - pos);
          this.#scatter(c.writable, header, hdrSize, frame, pos, n2);
          pos += n2;
        }
        for (let i = 0; i < count; i++) {
          const c = held[i];
          q.push(c, i < count - 1 ? c.writableLength : total - (used - c.writableLength));
        }
        held.splice(0, count);
        this.#heldBytes[pair] -= used;
        this.#done(pair, header, frame.length);
        return OK;
      }
    }
    return NO_BUFFERS;
  }

  #done(pair: number, header: Uint8Array, bytes: number): void {
    this.#pushed[pair]++;
    this.#stats.rxFrames++;
    this.#stats.rxBytes += bytes;
    const c = this.#counters;
    const vq = this.#index[pair];
    c.add(vq, PACKETS, 1);
    c.add(vq, BYTES, bytes);
    const flags = header[H.flags];
    c.add(vq, flags & VIRTIO_NET_HDR_F_DATA_VALID ? RX_CSUM_VALID : flags & VIRTIO_NET_HDR_F_NEEDS_CSUM ? RX_NEEDS_CSUM : RX_CSUM_NONE, 1);
    if (header[H.gso_type] !== VIRTIO_NET_HDR_GSO_NONE) {
      c.add(vq, RX_GSO_PACKETS, 1);
      c.add(vq, RX_GSO_BYTES, bytes);
    }
  }

  /** Writes bytes [pos, pos+len) of header[0..hdrSize) ++ frame into `segments` from their start. */
  #scatter(segments: readonly Segment[], header: Uint8Array, hdrSize: number, frame: Uint8Array, pos: number, len: number): void {
    const mem = this.#memory;
    let left = len;
    for (let s = 0; s < segments.length && left > 0; s++) {
      let addr = segments[s].addr;
      let room = Math.min(segments[s].len, left);
      left -= room;
      while (room > 0) {
        let n: number;
        if (pos < hdrSize) {
          n = Math.min(hdrSize - pos, room);
          mem.write(addr, header.subarray(pos, pos + n));
        } else {
          n = Math.min(frame.length - (pos - hdrSize), room);
          mem.write(addr, frame.subarray(pos - hdrSize, pos - hdrSize + n));
        }
        pos += n;
        addr += n;
        room -= n;
      }
    }
  }
}
