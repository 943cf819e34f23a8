/**
 * One side of a vsock transport (spec 5.10.6): listeners and connections keyed by
 * (local port, peer cid, peer port), dispatch of the peer's packets, and the spec's RST
 * answers. Runtime-neutral; the device (host side) and the driver (guest side) each own one
 * and move its packets through their virtqueues.
 */
import {
  EMPTY_PAYLOAD,
  VIRTIO_VSOCK_OP_REQUEST,
  VIRTIO_VSOCK_OP_RST,
  VIRTIO_VSOCK_TYPE_STREAM,
  type VsockHeader,
  type VsockType,
} from '../protocol.js';
import { systemTimers, type Timers } from './clock.js';
import { VsockConnection, type ConnectionHost } from './connection.js';

export interface VsockEndpointOptions {
  /** Our CID (read at every packet: it changes on a transport reset). */
  localCid(): number;
  /** Queues a packet toward the peer (the packet's payload is valid during the call only). */
  transmit(hdr: VsockHeader, payload: Uint8Array): void;
  /** Socket types usable now (from the negotiated features). */
  supports(type: number): boolean;
  /** Receive buffer per connection (buf_alloc), in bytes. Default 262144. */
  readonly bufAlloc?: number;
  /** Largest payload per RW packet, in bytes. Default 65536. */
  readonly maxPayload?: number;
  /** How long a connect waits for RESPONSE and a clean close for RST, in ms. Default 2000. */
  readonly timeoutMs?: number;
  /** Most connections at once; further REQUESTs are answered with RST. Default 1024. */
  readonly maxConnections?: number;
  readonly timers?: Timers;
}

/** A listening socket: incoming connections to its port and type. */
export interface VsockListener {
  readonly port: number;
  readonly type: VsockType;
  /** Stops accepting; existing connections stay. */
  close(): void;
}

/** Lowest port picked for outgoing connections. */
export const EPHEMERAL_PORT_BASE = 49152;

const key = (localPort: number, peerCid: number, peerPort: number) => `${localPort}:${peerCid}:${peerPort}`;
const listenKey = (port: number, type: number) => port * 4 + type;

export class VsockEndpoint {
  readonly #opts: VsockEndpointOptions;
  readonly #conns = new Map<string, VsockConnection>();
  readonly #listeners = new Map<number, (c: VsockConnection) => void>();
  /** Catch-all listeners by type (ports with no listener of their own). */
  readonly #any = new Map<number, (c: VsockConnection) => void>();
  readonly #host: ConnectionHost;
  readonly #bufAlloc: number;
  readonly #timeoutMs: number;
  readonly #maxConnections: number;
  #nextPort = EPHEMERAL_PORT_BASE;

  /** @throws RangeError for out-of-range options */
  constructor(opts: VsockEndpointOptions) {
    this.#opts = opts;
    this.#bufAlloc = opts.bufAlloc ?? 262144;
    const maxPayload = opts.maxPayload ?? 65536;
    this.#timeoutMs = opts.timeoutMs ?? 2000;
    this.#maxConnections = opts.maxConnections ?? 1024;
    if (!Number.isInteger(this.#bufAlloc) || this.#bufAlloc < 1 || this.#bufAlloc > 0xffffffff) throw new RangeError(`vsock: bufAlloc ${this.#bufAlloc}`);
    if (!Number.isInteger(maxPayload) || maxPayload < 1) throw new RangeError(`vsock: maxPayload ${maxPayload}`);
    const timers = opts.timers ?? systemTimers;
    this.#host = {
      localCid: opts.localCid,
      transmit: opts.transmit,
      maxPayload,
      closed: (c) => {
        const k = key(c.localPort, c.peerCid, c.peerPort);
        if (this.#conns.get(k) === c) this.#conns.delete(k);
      },
      setTimer: (fn, ms) => timers.setTimeout(fn, ms),
      clearTimer: (h) => timers.clearTimeout(h),
      closeTimeoutMs: this.#timeoutMs,
    };
  }

  /** Live connections. */
  get connections(): readonly VsockConnection[] {
    return [...this.#conns.values()];
  }

  /**
   * Accepts connections to `port` of `type`; `onConnection` runs for each, already connected.
   * @throws Error when the port already listens for that type; RangeError for a port outside u32
   */
  listen(port: number, onConnection: (c: VsockConnection) => void, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): VsockListener {
    if (!Number.isInteger(port) || port < 0 || port > 0xffffffff) throw new RangeError(`vsock: port ${port}`);
    const k = listenKey(port, type);
    if (this.#listeners.has(k)) throw new Error(`vsock: port ${port} already listening`);
    this.#listeners.set(k, onConnection);
    return {
      port,
      type,
      close: () => {
        if (this.#listeners.get(k) === onConnection) this.#listeners.delete(k);
      },
    };
  }

  /**
   * Accepts connections of `type` to every port that has no listener of its own (e.g. a
   * backend that forwards each port elsewhere). Replaces an earlier catch-all of that type.
   */
  listenAll(onConnection: (c: VsockConnection) => void, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): { close(): void } {
    this.#any.set(type, onConnection);
    return {
      close: () => {
        if (this.#any.get(type) === onConnection) this.#any.delete(type);
      },
    };
  }

  /**
   * Connects to (peerCid, peerPort): REQUEST, then RESPONSE or RST.
   * @returns a promise of the connected socket; it rejects on RST, timeout or reset
   * @throws Error (rejects) when the type is not negotiated
   */
  connect(peerCid: number, peerPort: number, type: VsockType = VIRTIO_VSOCK_TYPE_STREAM): Promise<VsockConnection> {
    if (!this.#opts.supports(type)) return Promise.reject(new Error(`vsock: socket type ${type} not negotiated`));
    const port = this.#freePort(peerCid, peerPort);
    if (port === undefined) return Promise.reject(new Error('vsock: no free local port'));
    const c = new VsockConnection(this.#host, type, port, peerCid, peerPort, this.#bufAlloc, 'connecting');
    this.#conns.set(key(port, peerCid, peerPort), c);
    return new Promise((resolve, reject) => c.startConnect(this.#timeoutMs, (err) => (err ? reject(err) : resolve(c))));
  }

  /**
   * A packet from the peer, already checked to be addressed to us and from the peer's CID.
   * Answers what the spec answers with RST: unknown type ([vsock.dev.8]/[vsock.drv.8]), a type
   * not negotiated, a packet for no connection, a REQUEST with no listener or no room.
   */
  receive(hdr: VsockHeader, payload: Uint8Array): void {
    if (!this.#opts.supports(hdr.type)) return this.#reset(hdr);
    const c = this.#conns.get(key(hdr.dstPort, hdr.srcCid, hdr.srcPort));
    if (c) {
      if (c.type !== hdr.type) return c.abort('protocol');
      if (hdr.op === VIRTIO_VSOCK_OP_REQUEST) return; // a duplicate REQUEST for a live flow
      c.receive(hdr, payload);
      return;
    }
    if (hdr.op !== VIRTIO_VSOCK_OP_REQUEST) return this.#reset(hdr);
    const onConnection = this.#listeners.get(listenKey(hdr.dstPort, hdr.type)) ?? this.#any.get(hdr.type);
    if (!onConnection || this.#conns.size >= this.#maxConnections) return this.#reset(hdr);
    const conn = new VsockConnection(this.#host, hdr.type as VsockType, hdr.dstPort, hdr.srcCid, hdr.srcPort, this.#bufAlloc, 'connected');
    this.#conns.set(key(hdr.dstPort, hdr.srcCid, hdr.srcPort), conn);
    conn.accept(hdr);
    onConnection(conn);
  }

  /** Drops every connection without a packet (transport or device reset); listeners stay ([vsock.drv.11], [vsock.drv.12]). */
  resetConnections(): void {
    for (const c of [...this.#conns.values()]) c.drop('reset');
    this.#conns.clear();
  }

  /** RST for a packet we cannot take; never in answer to an RST. */
  #reset(hdr: VsockHeader): void {
    if (hdr.op === VIRTIO_VSOCK_OP_RST) return;
    this.#opts.transmit(
      {
        srcCid: this.#opts.localCid(),
        dstCid: hdr.srcCid,
        srcPort: hdr.dstPort,
        dstPort: hdr.srcPort,
        len: 0,
        type: hdr.type,
        op: VIRTIO_VSOCK_OP_RST,
        flags: 0,
        bufAlloc: 0,
        fwdCnt: 0,
      },
      EMPTY_PAYLOAD,
    );
  }

  #freePort(peerCid: number, peerPort: number): number | undefined {
    for (let i = 0; i < 65536; i++) {
      const p = this.#nextPort;
      this.#nextPort = p === 0xffffffff ? EPHEMERAL_PORT_BASE : p + 1;
      if (!this.#conns.has(key(p, peerCid, peerPort))) return p;
    }
    return undefined;
  }
}
