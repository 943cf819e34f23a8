/**
 * One vsock connection of an endpoint (spec 5.10.6.3 "Buffer Space Management", 5.10.6.4
 * "Stream Sockets", 5.10.6.5 "Seqpacket Sockets"): the state machine, credit-based flow control
 * and, for seqpacket, message and record boundaries. Runtime-neutral; the same class serves the
 * host (device side) and the guest (driver side).
 */
import {
  EMPTY_PAYLOAD,
  VIRTIO_VSOCK_OP_CREDIT_REQUEST,
  VIRTIO_VSOCK_OP_CREDIT_UPDATE,
  VIRTIO_VSOCK_OP_REQUEST,
  VIRTIO_VSOCK_OP_RST,
  VIRTIO_VSOCK_OP_RW,
  VIRTIO_VSOCK_OP_SHUTDOWN,
  VIRTIO_VSOCK_SEQ_EOM,
  VIRTIO_VSOCK_SEQ_EOR,
  VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE,
  VIRTIO_VSOCK_SHUTDOWN_F_SEND,
  VIRTIO_VSOCK_TYPE_SEQPACKET,
  type VsockHeader,
  type VsockType,
} from '../protocol.js';

export type VsockConnectionState = 'connecting' | 'connected' | 'closing' | 'closed';

/** Why a connection closed: the peer reset it, a clean close completed, a transport/device reset, a timeout, or a protocol violation. */
export type VsockCloseReason = 'rst' | 'closed' | 'reset' | 'timeout' | 'refused' | 'protocol';

/** Boundaries of a received seqpacket message (both false for stream data). */
export interface VsockDataInfo {
  /** End of record (MSG_EOR). */
  readonly eor: boolean;
}

/** What a connection needs from its endpoint. */
export interface ConnectionHost {
  localCid(): number;
  /** Queues a packet toward the peer. */
  transmit(hdr: VsockHeader, payload: Uint8Array): void;
  /** Largest payload per RW packet, in bytes. */
  readonly maxPayload: number;
  /** The connection closed: forget it. */
  closed(conn: VsockConnection): void;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(h: unknown): void;
  readonly closeTimeoutMs: number;
}

const u32 = (n: number) => n >>> 0;

export class VsockConnection {
  readonly type: VsockType;
  readonly localPort: number;
  readonly peerCid: number;
  readonly peerPort: number;
  /** Our receive buffer for this socket (buf_alloc we publish), in bytes. */
  readonly bufAlloc: number;

  #ondata: ((data: Uint8Array, info: VsockDataInfo) => void) | undefined;
  /** Data that arrived while no `ondata` handler was set; it still occupies our buffer (fwd_cnt not advanced). */
  readonly #held: { data: Uint8Array; eor: boolean }[] = [];
  /** The peer will send no more data (SHUTDOWN with F_SEND). */
  onend: (() => void) | undefined;
  /** Everything written was sent (the write queue emptied after waiting for credit). */
  ondrain: (() => void) | undefined;
  /** The connection is gone. */
  onclose: ((reason: VsockCloseReason) => void) | undefined;

  readonly #host: ConnectionHost;
  #state: VsockConnectionState;
  /** Payload bytes we handed to the application (our fwd_cnt). */
  #fwdCnt = 0;
  /** Payload bytes received from the peer. */
  #rxCnt = 0;
  /** fwd_cnt we last told the peer. */
  #reportedFwd = 0;
  #peerBufAlloc = 0;
  #peerFwdCnt = 0;
  /** Payload bytes we sent (tx_cnt). */
  #txCnt = 0;
  #creditRequested = false;
  /** Data waiting for peer credit: chunks with their seqpacket flags. */
  readonly #pending: { data: Uint8Array; off: number; flags: number }[] = [];
  #pendingBytes = 0;
  /** A seqpacket message being assembled. */
  readonly #message: Uint8Array[] = [];
  #localShutdown = 0;
  #peerShutdown = 0;
  #timer: unknown;
  #timerSet = false;
  #onConnected: ((err?: Error) => void) | undefined;

  /** @internal created by VsockEndpoint */
  constructor(host: ConnectionHost, type: VsockType, localPort: number, peerCid: number, peerPort: number, bufAlloc: number, state: VsockConnectionState) {
    this.#host = host;
    this.type = type;
    this.localPort = localPort;
    this.peerCid = peerCid;
    this.peerPort = peerPort;
    this.bufAlloc = bufAlloc;
    this.#state = state;
  }

  /**
   * Data (a stream chunk or a whole seqpacket message) from the peer. Data arriving while no
   * handler is set is held (within our buffer, so the peer's credit stops it) and handed over
   * when one is set.
   */
  get ondata(): ((data: Uint8Array, info: VsockDataInfo) => void) | undefined {
    return this.#ondata;
  }
  set ondata(fn: ((data: Uint8Array, info: VsockDataInfo) => void) | undefined) {
    this.#ondata = fn;
    while (fn && this.#held.length > 0 && this.#ondata === fn) {
      const h = this.#held.shift()!;
      fn(h.data, { eor: h.eor });
      this.#consumed(h.data.length);
    }
  }

  get state(): VsockConnectionState {
    return this.#state;
  }

  /** Bytes written but not yet sent for lack of peer credit. */
  get queuedBytes(): number {
    return this.#pendingBytes;
  }

  /** The peer's free receive space as we know it: peer_buf_alloc - (tx_cnt - peer_fwd_cnt), in bytes. */
  get peerFree(): number {
    const inFlight = u32(this.#txCnt - this.#peerFwdCnt);
    return inFlight >= this.#peerBufAlloc ? 0 : this.#peerBufAlloc - inFlight;
  }

  /**
   * Queues `data` for the peer; sent as peer credit allows ([vsock.dev.5]/[vsock.drv.5]). For
   * seqpacket, `data` is one message (EOM on its last packet) and `eor` ends a record.
   * @throws Error when not connected or after shutdown(F_SEND)/close(); RangeError for an empty seqpacket message
   */
  write(data: Uint8Array, opts: { eor?: boolean } = {}): void {
    if (this.#state !== 'connected') throw new Error(`vsock: write on a ${this.#state} connection`);
    if (this.#localShutdown & VIRTIO_VSOCK_SHUTDOWN_F_SEND) throw new Error('vsock: write after shutdown');
    const seq = this.type === VIRTIO_VSOCK_TYPE_SEQPACKET;
    if (!seq && data.length === 0) return;
    const flags = seq ? VIRTIO_VSOCK_SEQ_EOM | (opts.eor ? VIRTIO_VSOCK_SEQ_EOR : 0) : 0;
    this.#pending.push({ data: data.slice(), off: 0, flags });
    this.#pendingBytes += data.length;
    this.#flush();
  }

  /**
   * Sends SHUTDOWN with `flags` (VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | _F_SEND). Hints are permanent.
   * With both bits set (here or by the peer earlier) the clean disconnect starts: the peer
   * answers RST; without one within the close timeout we send RST.
   */
  shutdown(flags: number): void {
    if (this.#state !== 'connected' && this.#state !== 'closing') return;
    this.#localShutdown |= flags & (VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | VIRTIO_VSOCK_SHUTDOWN_F_SEND);
    this.#send(VIRTIO_VSOCK_OP_SHUTDOWN, this.#localShutdown, EMPTY_PAYLOAD);
    if (this.#localShutdown === (VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | VIRTIO_VSOCK_SHUTDOWN_F_SEND) && this.#state === 'connected') {
      this.#state = 'closing';
      this.#arm(this.#host.closeTimeoutMs, () => this.abort('timeout'));
    }
  }

  /** Clean disconnect (spec 5.10.6.4): SHUTDOWN of both directions, then wait for the peer's RST. Queued data is discarded. */
  close(): void {
    if (this.#state === 'connecting') return this.abort('closed');
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.shutdown(VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | VIRTIO_VSOCK_SHUTDOWN_F_SEND);
  }

  /** Sends RST and forgets the connection at once. */
  abort(reason: VsockCloseReason = 'closed'): void {
    if (this.#state === 'closed') return;
    this.#send(VIRTIO_VSOCK_OP_RST, 0, EMPTY_PAYLOAD);
    this.#finish(reason);
  }

  // ---- endpoint side ----

  /** @internal sends REQUEST and reports the outcome through `done`. */
  startConnect(timeoutMs: number, done: (err?: Error) => void): void {
    this.#onConnected = done;
    this.#send(VIRTIO_VSOCK_OP_REQUEST, 0, EMPTY_PAYLOAD);
    this.#arm(timeoutMs, () => this.abort('timeout'));
  }

  /** @internal a packet of this flow from the peer. */
  receive(hdr: VsockHeader, payload: Uint8Array): void {
    this.#peerBufAlloc = hdr.bufAlloc;
    this.#peerFwdCnt = hdr.fwdCnt;
    switch (hdr.op) {
      case 2: // VIRTIO_VSOCK_OP_RESPONSE
        if (this.#state !== 'connecting') return this.abort('protocol');
        this.#disarm();
        this.#state = 'connected';
        this.#settleConnect();
        this.#flush();
        return;
      case VIRTIO_VSOCK_OP_RST:
        // The peer's RST: the answer to our clean close, or an abort. Never answered.
        this.#finish(this.#state === 'closing' ? 'closed' : this.#state === 'connecting' ? 'refused' : 'rst');
        return;
      case VIRTIO_VSOCK_OP_SHUTDOWN:
        if (this.#state === 'connecting') return this.abort('protocol');
        this.#peerShutdown |= hdr.flags & (VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | VIRTIO_VSOCK_SHUTDOWN_F_SEND);
        if (hdr.flags & VIRTIO_VSOCK_SHUTDOWN_F_SEND) this.onend?.();
        if (this.#peerShutdown === (VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | VIRTIO_VSOCK_SHUTDOWN_F_SEND)) {
          // The peer finished: answer its clean disconnect with RST.
          this.abort('closed');
        }
        return;
      case VIRTIO_VSOCK_OP_RW:
        this.#receiveData(hdr, payload);
        return;
      case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
        // Ask again only after the peer actually freed space: an update without credit must not
        // start a CREDIT_REQUEST / CREDIT_UPDATE ping-pong.
        if (this.peerFree > 0) this.#creditRequested = false;
        this.#flush();
        return;
      case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
        this.#send(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, EMPTY_PAYLOAD);
        this.#flush();
        return;
      default:
        this.abort('protocol');
    }
  }

  /** @internal accepted by a listener: answer RESPONSE. */
  accept(hdr: VsockHeader): void {
    this.#peerBufAlloc = hdr.bufAlloc;
    this.#peerFwdCnt = hdr.fwdCnt;
    this.#send(2 /* VIRTIO_VSOCK_OP_RESPONSE */, 0, EMPTY_PAYLOAD);
  }

  /** @internal transport or device reset: gone without a packet ([vsock.drv.11]). */
  drop(reason: VsockCloseReason): void {
    this.#finish(reason);
  }

  #receiveData(hdr: VsockHeader, payload: Uint8Array): void {
    if (this.#state !== 'connected' && this.#state !== 'closing') return this.abort('protocol');
    if (payload.length === 0 && this.type !== VIRTIO_VSOCK_TYPE_SEQPACKET) return;
    // The peer may only send what our published buffer holds: more is a protocol violation.
    if (u32(this.#rxCnt - this.#fwdCnt) + payload.length > this.bufAlloc) return this.abort('protocol');
    this.#rxCnt = u32(this.#rxCnt + payload.length);
    if (this.#localShutdown & VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE) {
      this.#consumed(payload.length);
      return;
    }
    if (this.type === VIRTIO_VSOCK_TYPE_SEQPACKET) {
      this.#message.push(payload.slice());
      if ((hdr.flags & VIRTIO_VSOCK_SEQ_EOM) === 0) return;
      const parts = this.#message.splice(0);
      let n = 0;
      for (const p of parts) n += p.length;
      const msg = new Uint8Array(n);
      n = 0;
      for (const p of parts) {
        msg.set(p, n);
        n += p.length;
      }
      this.#deliver(msg, (hdr.flags & VIRTIO_VSOCK_SEQ_EOR) !== 0);
      return;
    }
    this.#deliver(payload.slice(), false);
  }

  #deliver(data: Uint8Array, eor: boolean): void {
    const fn = this.#ondata;
    if (!fn || this.#held.length > 0) {
      this.#held.push({ data, eor });
      return;
    }
    fn(data, { eor });
    this.#consumed(data.length);
  }

  /** The application took `n` bytes: fwd_cnt grows; tell the peer once half our buffer was freed unreported. */
  #consumed(n: number): void {
    this.#fwdCnt = u32(this.#fwdCnt + n);
    if (this.#state === 'connected' && u32(this.#fwdCnt - this.#reportedFwd) >= this.bufAlloc / 2) {
      this.#send(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, EMPTY_PAYLOAD);
    }
  }

  /** Sends queued data while the peer has room; asks for credit once when it has none. */
  #flush(): void {
    if (this.#state !== 'connected' && this.#state !== 'closing') return;
    if (this.#pending.length === 0) return;
    while (this.#pending.length > 0) {
      const p = this.#pending[0];
      const left = p.data.length - p.off;
      const n = Math.min(left, this.peerFree, this.#host.maxPayload);
      if (n === 0 && left > 0) {
        if (!this.#creditRequested) {
          this.#creditRequested = true;
          this.#send(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, EMPTY_PAYLOAD);
        }
        return;
      }
      const last = n === left;
      this.#txCnt = u32(this.#txCnt + n);
      this.#send(VIRTIO_VSOCK_OP_RW, last ? p.flags : 0, p.data.subarray(p.off, p.off + n));
      p.off += n;
      this.#pendingBytes -= n;
      if (last) this.#pending.shift();
    }
    this.ondrain?.();
  }

  #send(op: number, flags: number, payload: Uint8Array): void {
    this.#reportedFwd = this.#fwdCnt;
    this.#host.transmit(
      {
        srcCid: this.#host.localCid(),
        dstCid: this.peerCid,
        srcPort: this.localPort,
        dstPort: this.peerPort,
        len: payload.length,
        type: this.type,
        op,
        flags,
        // [vsock.dev.6]/[vsock.drv.6] every packet of the flow carries our buffer space.
        bufAlloc: this.bufAlloc,
        fwdCnt: this.#fwdCnt,
      },
      payload,
    );
  }

  #arm(ms: number, fn: () => void): void {
    this.#disarm();
    this.#timerSet = true;
    this.#timer = this.#host.setTimer(() => {
      this.#timerSet = false;
      fn();
    }, ms);
  }

  #disarm(): void {
    if (this.#timerSet) this.#host.clearTimer(this.#timer);
    this.#timerSet = false;
  }

  #settleConnect(err?: Error): void {
    const done = this.#onConnected;
    this.#onConnected = undefined;
    done?.(err);
  }

  #finish(reason: VsockCloseReason): void {
    if (this.#state === 'closed') return;
    this.#disarm();
    const wasConnecting = this.#state === 'connecting';
    this.#state = 'closed';
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#message.length = 0;
    this.#held.length = 0;
    this.#host.closed(this);
    if (wasConnecting) this.#settleConnect(new Error(`vsock: connect to ${this.peerCid}:${this.peerPort} failed (${reason})`));
    else this.onclose?.(reason);
  }
}
