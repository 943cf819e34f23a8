/**
 * The socket device, driver side (spec 5.10): the guest end. Reads guest_cid, keeps the event
 * and rx queues populated, sends the endpoint's packets on the tx queue (holding them in a
 * bounded backlog while the ring is full) and handles VIRTIO_VSOCK_EVENT_TRANSPORT_RESET.
 */
import {
  DriverDevice,
  featureMask,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import { negotiatedTypes, typeAllowed, type VsockTypes } from './features.js';
import {
  decodeHeader,
  encodeHeader,
  VIRTIO_VSOCK_CONFIG_GUEST_CID,
  VIRTIO_VSOCK_EVENT,
  VIRTIO_VSOCK_EVENT_SIZE,
  VIRTIO_VSOCK_EVENT_TRANSPORT_RESET,
  VIRTIO_VSOCK_HDR_SIZE,
  VIRTIO_VSOCK_RX,
  VIRTIO_VSOCK_TX,
  VIRTIO_VSOCK_TYPE_STREAM,
  type VsockHeader,
  type VsockType,
} from './protocol.js';
import type { Timers } from './socket/clock.js';
import type { VsockConnection } from './socket/connection.js';
import { VsockEndpoint, type VsockListener } from './socket/endpoint.js';

export interface VsockDriverOptions {
  readonly memory: GuestMemory;
  /** Allocates rings, rx/event buffers and (freed after use) tx packets. */
  readonly allocator: GuestAllocator;
  /** Requested queue sizes (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** rx buffers kept available (>= 1, at most the queue size). Default the queue size. */
  readonly rxBuffers?: number;
  /** Payload room of each rx buffer, in bytes (the buffer is 44 bytes more). Default 4096. */
  readonly rxBufferPayload?: number;
  /** Packets held while the tx ring is full; rx is processed while it has room ([vsock.drv.4]). Default 256. */
  readonly backlogPackets?: number;
  /** Ring features accepted when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
  /** Device features accepted. Default STREAM | SEQPACKET | NO_IMPLIED_STREAM ([vsock.drv.1]). */
  readonly vsockFeatures?: bigint;
  /** Guest receive buffer per connection (buf_alloc), in bytes. Default 262144. */
  readonly bufAlloc?: number;
  readonly timeoutMs?: number;
  readonly timers?: Timers;
}

/** Number of event buffers kept on the event queue. */
export const VSOCK_EVENT_BUFFERS = 4;

const DEFAULT_VSOCK_FEATURES = 0b111n;

interface TxPending {
  readonly addr: number;
}

export class VsockDriver {
  readonly device: DriverDevice;
  /** Socket types the negotiated features allow. */
  readonly types: VsockTypes;
  /** Called after a VIRTIO_VSOCK_EVENT_TRANSPORT_RESET was handled (connections dropped, CID re-read). */
  ontransportreset: ((guestCid: number) => void) | undefined;

  readonly #transport: DriverTransport;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #endpoint: VsockEndpoint;
  readonly #rxSize: number;
  readonly #backlogMax: number;
  readonly #backlog: { hdr: VsockHeader; payload: Uint8Array }[] = [];
  readonly #hdr = new DataView(new ArrayBuffer(VIRTIO_VSOCK_HDR_SIZE));
  readonly #hdrBytes = new Uint8Array(this.#hdr.buffer);
  #cid: number;
  #closed = false;
  #dropped = 0;

  private constructor(device: DriverDevice, transport: DriverTransport, cid: number, rxSize: number, opts: VsockDriverOptions) {
    this.device = device;
    this.#transport = transport;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
    this.#cid = cid;
    this.#rxSize = rxSize;
    this.#backlogMax = opts.backlogPackets ?? 256;
    this.types = negotiatedTypes(device.features);
    this.#endpoint = new VsockEndpoint({
      // [vsock.drv.7] guest_cid is the source CID of everything we send.
      localCid: () => this.#cid,
      transmit: (hdr, payload) => this.#send(hdr, payload),
      supports: (type) => typeAllowed(this.types, type),
      bufAlloc: opts.bufAlloc,
      maxPayload: rxSize - VIRTIO_VSOCK_HDR_SIZE,
      timeoutMs: opts.timeoutMs,
      timers: opts.timers,
    });
  }

  /**
   * Initializes the socket device (spec 3.1.1, 5.10.5): reads guest_cid, fills the event and
   * rx queues.
   * @throws DeviceInitError from the initialization sequence (also 'config-rejected' for a reserved guest_cid)
   */
  static initialize(transport: DriverTransport, opts: VsockDriverOptions): VsockDriver {
    let cid = 0;
    const rxSize = VIRTIO_VSOCK_HDR_SIZE + (opts.rxBufferPayload ?? 4096);
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: (opts.vsockFeatures ?? DEFAULT_VSOCK_FEATURES) | (opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)),
      queues: [
        { index: VIRTIO_VSOCK_RX, size: opts.queueSize },
        { index: VIRTIO_VSOCK_TX, size: opts.queueSize },
        { index: VIRTIO_VSOCK_EVENT, size: opts.queueSize },
      ],
      checkConfig: (c) => {
        const v = c.u64(VIRTIO_VSOCK_CONFIG_GUEST_CID);
        cid = Number(v & 0xffffffffn);
        return v >> 32n === 0n && cid > 2 && cid !== 0xffffffff;
      },
      setup: (queues) => {
        const ev = queues[VIRTIO_VSOCK_EVENT] as DriverQueue<number>;
        for (let i = 0; i < Math.min(VSOCK_EVENT_BUFFERS, ev.config.size); i++) {
          const a = opts.allocator.alloc(VIRTIO_VSOCK_EVENT_SIZE, 4);
          ev.add([], [{ addr: a, len: VIRTIO_VSOCK_EVENT_SIZE }], a);
        }
        const rx = queues[VIRTIO_VSOCK_RX] as DriverQueue<number>;
        const n = opts.rxBuffers ?? rx.config.size;
        if (!Number.isInteger(n) || n < 1 || n > rx.config.size) throw new RangeError(`vsock: rxBuffers ${n} outside 1..${rx.config.size}`);
        const base = opts.allocator.alloc(n * rxSize, 8);
        for (let i = 0; i < n; i++) rx.add([], [{ addr: base + i * rxSize, len: rxSize }], base + i * rxSize);
      },
    });
    return new VsockDriver(device, transport, cid, rxSize, opts);
  }

  /** The guest's CID (re-read on every transport reset event). */
  get guestCid(): number {
    return this.#cid;
  }

  /** Packets waiting for room on the tx ring. */
  get backlog(): number {
    return this.#backlog.length;
  }

  /** Packets the device delivered that were malformed or misaddressed, dropped. */
  get dropped(): number {
    return this.#dropped;
  }

  get connections(): readonly VsockConnection[] {
    return this.#endpoint.connections;
  }

  /** Accepts connections to guest port `port`. @throws Error when already listening */
  listen(port: number, onConnection: (c: VsockConnection) => void, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): VsockListener {
    return this.#endpoint.listen(port, onConnection, type);
  }

  /** Connects to (cid, port), usually the host (CID 2). */
  connect(cid: number, port: number, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): Promise<VsockConnection> {
    if (this.#closed) return Promise.reject(new Error('vsock: driver closed'));
    return this.#endpoint.connect(cid, port, type);
  }

  /** Call when the device interrupts. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#closed = true;
      this.#endpoint.resetConnections();
      return;
    }
    if (!ev.usedBuffer) return;
    this.#reapTx();
    this.#reapEvents();
    this.#reapRx();
  }

  /** Resets the device; connections drop. */
  reset(): void {
    this.#closed = true;
    this.device.reset();
    this.#endpoint.resetConnections();
  }

  #send(hdr: VsockHeader, payload: Uint8Array): void {
    if (this.#closed) return;
    this.#backlog.push({ hdr: { ...hdr }, payload });
    this.#flushTx();
  }

  #flushTx(): void {
    const q = this.device.queues[VIRTIO_VSOCK_TX] as DriverQueue<TxPending> | undefined;
    if (!q) return;
    let added = false;
    while (this.#backlog.length > 0) {
      const { hdr, payload } = this.#backlog[0];
      let addr: number;
      try {
        addr = this.#allocator.alloc(VIRTIO_VSOCK_HDR_SIZE + payload.length, 8);
      } catch {
        break; // memory frees up as the device returns tx buffers
      }
      encodeHeader(hdr, this.#hdr);
      this.#memory.write(addr, this.#hdrBytes);
      if (payload.length > 0) this.#memory.write(addr + VIRTIO_VSOCK_HDR_SIZE, payload);
      if (!q.add([{ addr, len: VIRTIO_VSOCK_HDR_SIZE + payload.length }], [], { addr })) {
        this.#allocator.free(addr);
        break;
      }
      this.#backlog.shift();
      added = true;
    }
    if (added) this.device.kick(VIRTIO_VSOCK_TX);
  }

  #reapTx(): void {
    const q = this.device.queues[VIRTIO_VSOCK_TX] as DriverQueue<TxPending> | undefined;
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) this.#allocator.free(used.token.addr);
      if (!q.enableInterrupts()) break;
    }
    this.#flushTx();
  }

  #reapRx(): void {
    const q = this.device.queues[VIRTIO_VSOCK_RX] as DriverQueue<number> | undefined;
    if (!q) return;
    const m = this.#memory;
    let added = false;
    for (;;) {
      let used;
      // [vsock.drv.4] rx is processed while replies have room in the tx backlog.
      while (this.#backlog.length < this.#backlogMax && (used = q.reap()) !== null) {
        const addr = used.token;
        this.#rxPacket(m, addr, Math.min(used.len, this.#rxSize));
        q.add([], [{ addr, len: this.#rxSize }], addr);
        added = true;
        if (this.#closed) return;
      }
      if (this.#backlog.length >= this.#backlogMax || !q.enableInterrupts()) break;
    }
    if (added) this.device.kick(VIRTIO_VSOCK_RX);
  }

  #rxPacket(m: GuestMemory, addr: number, len: number): void {
    if (len < VIRTIO_VSOCK_HDR_SIZE) {
      this.#dropped++;
      return;
    }
    m.read(addr, this.#hdrBytes);
    const hdr = decodeHeader(this.#hdr);
    if (hdr.len > len - VIRTIO_VSOCK_HDR_SIZE || hdr.dstCid !== this.#cid) {
      this.#dropped++;
      return;
    }
    const payload = new Uint8Array(hdr.len);
    if (hdr.len > 0) m.read(addr + VIRTIO_VSOCK_HDR_SIZE, payload);
    this.#endpoint.receive(hdr, payload);
  }

  #reapEvents(): void {
    const q = this.device.queues[VIRTIO_VSOCK_EVENT] as DriverQueue<number> | undefined;
    if (!q) return;
    let added = false;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const addr = used.token;
        const id = used.len >= VIRTIO_VSOCK_EVENT_SIZE ? this.#memory.readU32(addr) : -1;
        // [vsock.drv.9] the buffer goes straight back so no event is missed.
        q.add([], [{ addr, len: VIRTIO_VSOCK_EVENT_SIZE }], addr);
        added = true;
        if (id === VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) this.#transportReset();
      }
      if (!q.enableInterrupts()) break;
    }
    if (added) this.device.kick(VIRTIO_VSOCK_EVENT);
  }

  /** [vsock.drv.10] re-read guest_cid; [vsock.drv.11] drop connections; [vsock.drv.12] listeners stay. */
  #transportReset(): void {
    const v = this.device.readConfig((c) => c.u64(VIRTIO_VSOCK_CONFIG_GUEST_CID));
    this.#cid = Number(v & 0xffffffffn);
    this.#endpoint.resetConnections();
    this.#backlog.length = 0;
    this.ontransportreset?.(this.#cid);
  }
}
