/**
 * The socket device, device side (spec 5.10): the host end of every guest vsock flow. Packets
 * the guest sends on the tx queue go to a {@link VsockEndpoint} of host listeners and
 * connections; the endpoint's packets wait in a bounded backlog for rx buffers. The event
 * queue carries VIRTIO_VSOCK_EVENT_TRANSPORT_RESET.
 */
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  type ActivateContext,
  type DeviceHost,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import { VsockRequestError } from './errors.js';
import { negotiatedTypes, typeAllowed, type VsockTypes } from './features.js';
import {
  decodeHeader,
  encodeHeader,
  isReservedCid,
  VIRTIO_VSOCK_CONFIG_BYTES,
  VIRTIO_VSOCK_DEVICE_ID,
  VIRTIO_VSOCK_EVENT,
  VIRTIO_VSOCK_EVENT_SIZE,
  VIRTIO_VSOCK_EVENT_TRANSPORT_RESET,
  VIRTIO_VSOCK_F_NO_IMPLIED_STREAM,
  VIRTIO_VSOCK_F_SEQPACKET,
  VIRTIO_VSOCK_F_STREAM,
  VIRTIO_VSOCK_HDR_SIZE,
  VIRTIO_VSOCK_OP_RW,
  VIRTIO_VSOCK_RX,
  VIRTIO_VSOCK_SEQ_EOM,
  VIRTIO_VSOCK_SEQ_EOR,
  VIRTIO_VSOCK_TX,
  VIRTIO_VSOCK_TYPE_STREAM,
  VMADDR_CID_HOST,
  type VsockHeader,
  type VsockType,
} from './protocol.js';
import type { Timers } from './socket/clock.js';
import type { VsockConnection } from './socket/connection.js';
import { VsockEndpoint, type VsockListener } from './socket/endpoint.js';

export interface VsockDeviceOptions {
  /** The guest's context ID: 3..0xfffffffe (spec 5.10.4, [vsock.dev.7]). */
  readonly guestCid: number;
  /** Device feature bits offered. Default STREAM | SEQPACKET | NO_IMPLIED_STREAM ([vsock.dev.1]). */
  readonly vsockFeatures?: bigint;
  /** Ring and transport features offered besides VERSION_1. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED | RING_RESET. */
  readonly ringFeatures?: bigint;
  /** Maximum size of each queue (descriptors, 1..32768). Default 128. */
  readonly queueSize?: number;
  /**
   * Packets held for the rx queue while it has no buffer (the "additional resources" of spec
   * 5.10.6.1). The tx queue is processed while the backlog has room ([vsock.dev.4]). Default 256.
   */
  readonly backlogPackets?: number;
  /** Largest payload accepted in one tx packet, in bytes. Default 65536. */
  readonly maxPayload?: number;
  /** Host receive buffer per connection (buf_alloc), in bytes. Default 262144. */
  readonly bufAlloc?: number;
  /** Connect and clean-close timeout, in ms. Default 2000. */
  readonly timeoutMs?: number;
  readonly timers?: Timers;
}

/** Counters since construction. */
export interface VsockStats {
  readonly txPackets: number;
  readonly rxPackets: number;
  /** tx packets dropped for a wrong source or destination CID. */
  readonly misaddressed: number;
}

export const VSOCK_DEFAULT_FEATURES = featureMask(VIRTIO_VSOCK_F_STREAM, VIRTIO_VSOCK_F_SEQPACKET, VIRTIO_VSOCK_F_NO_IMPLIED_STREAM);
export const VSOCK_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

interface Outgoing {
  hdr: VsockHeader;
  payload: Uint8Array;
}

export class VsockDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_VSOCK_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 3;
  readonly configSize = VIRTIO_VSOCK_CONFIG_BYTES;

  readonly #endpoint: VsockEndpoint;
  readonly #queueSize: number;
  readonly #backlogMax: number;
  readonly #maxPayload: number;
  readonly #backlog: Outgoing[] = [];
  readonly #hdr = new DataView(new ArrayBuffer(VIRTIO_VSOCK_HDR_SIZE));
  readonly #hdrBytes = new Uint8Array(this.#hdr.buffer);
  #guestCid: number;
  #types: VsockTypes = { stream: false, seqpacket: false };
  #host: DeviceHost | undefined;
  #ctx: ActivateContext | undefined;
  #broken = false;
  #suspended = false;
  #pendingEvents = 0;
  #txPackets = 0;
  #rxPackets = 0;
  #misaddressed = 0;

  /** @throws RangeError for a reserved guest CID ([vsock.dev.7]) or out-of-range options */
  constructor(opts: VsockDeviceOptions) {
    if (isReservedCid(opts.guestCid)) throw new RangeError(`vsock: guest CID ${opts.guestCid} is reserved`);
    const size = opts.queueSize ?? 128;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`vsock: queueSize ${size} outside 1..32768`);
    const backlog = opts.backlogPackets ?? 256;
    if (!Number.isInteger(backlog) || backlog < 1) throw new RangeError(`vsock: backlogPackets ${backlog}`);
    this.#guestCid = opts.guestCid;
    this.#queueSize = size;
    this.#backlogMax = backlog;
    this.#maxPayload = opts.maxPayload ?? 65536;
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1) | (opts.vsockFeatures ?? VSOCK_DEFAULT_FEATURES) | (opts.ringFeatures ?? VSOCK_DEFAULT_RING_FEATURES);
    this.#endpoint = new VsockEndpoint({
      localCid: () => VMADDR_CID_HOST,
      transmit: (hdr, payload) => this.#queueRx(hdr, payload),
      supports: (type) => typeAllowed(this.#types, type),
      bufAlloc: opts.bufAlloc,
      maxPayload: this.#maxPayload,
      timeoutMs: opts.timeoutMs,
      timers: opts.timers,
    });
  }

  /** The guest's current CID. */
  get guestCid(): number {
    return this.#guestCid;
  }

  get stats(): VsockStats {
    return { txPackets: this.#txPackets, rxPackets: this.#rxPackets, misaddressed: this.#misaddressed };
  }

  /** Packets waiting for rx buffers. */
  get backlog(): number {
    return this.#backlog.length;
  }

  /** Host connections now open. */
  get connections(): readonly VsockConnection[] {
    return this.#endpoint.connections;
  }

  /**
   * Host API: accepts guest connections to host port `port` (CID 2).
   * @throws Error when the port already listens for that type
   */
  listen(port: number, onConnection: (c: VsockConnection) => void, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): VsockListener {
    return this.#endpoint.listen(port, onConnection, type);
  }

  /** Host API: accepts guest connections to every host port without a listener of its own. */
  listenAll(onConnection: (c: VsockConnection) => void, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): { close(): void } {
    return this.#endpoint.listenAll(onConnection, type);
  }

  /** Host API: connects to a guest port. Rejects when the driver is not live, on RST or timeout. */
  connect(guestPort: number, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): Promise<VsockConnection> {
    if (!this.#ctx || this.#broken) return Promise.reject(new Error('vsock: the driver is not live'));
    return this.#endpoint.connect(this.#guestCid, guestPort, type);
  }

  /**
   * Sends VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (e.g. after migration), optionally with a new
   * guest CID: host connections are dropped, listeners stay.
   * @throws RangeError for a reserved CID
   */
  transportReset(newGuestCid: number = this.#guestCid): void {
    if (isReservedCid(newGuestCid)) throw new RangeError(`vsock: guest CID ${newGuestCid} is reserved`);
    const changed = newGuestCid !== this.#guestCid;
    this.#guestCid = newGuestCid;
    this.#endpoint.resetConnections();
    this.#backlog.length = 0;
    if (changed) this.#host?.configChanged();
    if (!this.#ctx) return;
    this.#pendingEvents++;
    this.#flushEvents();
  }

  attach(host: DeviceHost): void {
    this.#host = host;
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < 3 ? this.#queueSize : 0;
  }

  /** guest_cid as le64; the upper 32 bits are zero. Writes are ignored (read-only). */
  readConfig(offset: number, width: 1 | 2 | 4): number {
    const b = new DataView(new ArrayBuffer(8));
    b.setUint32(0, this.#guestCid, true);
    return width === 1 ? b.getUint8(offset) : width === 2 ? b.getUint16(offset, true) : b.getUint32(offset, true);
  }

  writeConfig(): void {}

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#suspended = false;
    this.#types = negotiatedTypes(ctx.features);
    this.#run();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_VSOCK_EVENT) this.#flushEvents();
    else this.#run();
  }

  enableQueue(queueIndex: number): void {
    this.queueNotify(queueIndex);
  }

  /** No chain is held between calls; a reset rx queue loses nothing (packets wait in the backlog). */
  resetQueue(): void {}

  reset(): void {
    this.#ctx = undefined;
    this.#broken = false;
    this.#suspended = false;
    this.#pendingEvents = 0;
    this.#backlog.length = 0;
    this.#endpoint.resetConnections();
  }

  suspend(): void {
    this.#suspended = true;
  }

  resume(): void {
    this.#suspended = false;
    this.#run();
  }

  #queueRx(hdr: VsockHeader, payload: Uint8Array): void {
    if (!this.#ctx || this.#broken) return;
    this.#backlog.push({ hdr: { ...hdr }, payload });
    this.#flushRx();
  }

  /** Alternates rx and tx until neither makes progress. */
  #run(): void {
    for (let guard = 0; guard < 1024; guard++) {
      const before = this.#txPackets + this.#rxPackets;
      this.#flushRx();
      this.#processTx();
      if (this.#txPackets + this.#rxPackets === before) break;
    }
  }

  #live(): ActivateContext | undefined {
    return this.#ctx && !this.#broken && !this.#suspended ? this.#ctx : undefined;
  }

  /** Processes tx packets while the rx backlog has room for their replies ([vsock.dev.4]). */
  #processTx(): void {
    const ctx = this.#live();
    const q = ctx?.queues[VIRTIO_VSOCK_TX];
    if (!ctx || !q) return;
    let pushed = false;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while (this.#backlog.length < this.#backlogMax && (chain = q.pop()) !== null) {
          this.#txPacket(ctx, chain);
          q.push(chain, 0);
          pushed = true;
          if (this.#broken) return;
        }
        if (this.#backlog.length >= this.#backlogMax || !q.enableNotifications()) break;
      }
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_VSOCK_TX);
  }

  #txPacket(ctx: ActivateContext, chain: DescriptorChain): void {
    if (chain.writable.length > 0 || chain.readableLength < VIRTIO_VSOCK_HDR_SIZE) {
      throw new VsockRequestError('bad-tx-buffer', `chain ${chain.id}: ${chain.readableLength} readable, ${chain.writableLength} writable bytes`);
    }
    const r = new ChainReader(ctx.memory, chain.readable);
    r.read(this.#hdrBytes);
    const hdr = decodeHeader(this.#hdr);
    if (hdr.len > r.remaining || hdr.len > this.#maxPayload) {
      throw new VsockRequestError('bad-tx-buffer', `chain ${chain.id}: len ${hdr.len} with ${r.remaining} payload bytes`);
    }
    this.#txPackets++;
    // Only the guest's own CID may be a source, only the host a destination.
    if (hdr.srcCid !== this.#guestCid || hdr.dstCid !== VMADDR_CID_HOST) {
      this.#misaddressed++;
      return;
    }
    const payload = new Uint8Array(hdr.len);
    r.read(payload);
    this.#endpoint.receive(hdr, payload);
  }

  /** Writes backlog packets into rx buffers, splitting payloads that do not fit one buffer. */
  #flushRx(): void {
    const ctx = this.#live();
    const q = ctx?.queues[VIRTIO_VSOCK_RX];
    if (!ctx || !q || this.#backlog.length === 0) return;
    let pushed = false;
    try {
      while (this.#backlog.length > 0) {
        const chain = q.pop();
        if (chain === null) {
          if (q.enableNotifications()) continue;
          break;
        }
        if (chain.readable.length > 0 || chain.writableLength < VIRTIO_VSOCK_HDR_SIZE) {
          throw new VsockRequestError('bad-rx-buffer', `chain ${chain.id}: ${chain.readableLength} readable, ${chain.writableLength} writable bytes`);
        }
        const out = this.#backlog[0];
        const room = chain.writableLength - VIRTIO_VSOCK_HDR_SIZE;
        const n = Math.min(room, out.payload.length);
        const whole = n === out.payload.length;
        const hdr = out.hdr;
        const flags = hdr.flags;
        if (!whole && hdr.op === VIRTIO_VSOCK_OP_RW) hdr.flags = flags & ~(VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);
        hdr.len = n;
        encodeHeader(hdr, this.#hdr);
        const w = new ChainWriter(ctx.memory, chain.writable);
        w.write(this.#hdrBytes);
        w.write(out.payload.subarray(0, n));
        q.push(chain, VIRTIO_VSOCK_HDR_SIZE + n);
        pushed = true;
        this.#rxPackets++;
        if (whole) this.#backlog.shift();
        else {
          hdr.flags = flags;
          out.payload = out.payload.subarray(n);
          hdr.len = out.payload.length;
        }
      }
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_VSOCK_RX);
  }

  #flushEvents(): void {
    const ctx = this.#live();
    const q = ctx?.queues[VIRTIO_VSOCK_EVENT];
    if (!ctx || !q) return;
    let pushed = false;
    try {
      while (this.#pendingEvents > 0) {
        const chain = q.pop();
        if (chain === null) break;
        if (chain.readable.length > 0 || chain.writableLength < VIRTIO_VSOCK_EVENT_SIZE) {
          throw new VsockRequestError('bad-event-buffer', `chain ${chain.id}: ${chain.writableLength} writable bytes`);
        }
        new ChainWriter(ctx.memory, chain.writable).writeU32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
        q.push(chain, VIRTIO_VSOCK_EVENT_SIZE);
        this.#pendingEvents--;
        pushed = true;
      }
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_VSOCK_EVENT);
  }

  #fail(ctx: ActivateContext, err: unknown): void {
    this.#broken = true;
    this.#backlog.length = 0;
    this.#endpoint.resetConnections();
    ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }
}
