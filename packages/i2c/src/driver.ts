/**
 * The I2C adapter device, driver side (spec 5.16): turns a transfer (the segments of one I2C
 * transaction) into requests on the requestq, chained with VIRTIO_I2C_FLAGS_FAIL_NEXT and
 * queued together in order, and reports how many segments completed.
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
import type { DriverQueue, GuestAllocator, GuestMemory, Segment } from '@virtio/ring';
import { encodeI2cAddress } from './address.js';
import {
  VIRTIO_I2C_F_ZERO_LENGTH_REQUEST,
  VIRTIO_I2C_FLAGS_FAIL_NEXT,
  VIRTIO_I2C_FLAGS_M_RD,
  VIRTIO_I2C_IN_HDR_SIZE,
  VIRTIO_I2C_MSG_OK,
  VIRTIO_I2C_OUT_HDR_SIZE,
  VIRTIO_I2C_REQUESTQ,
} from './protocol.js';

export interface I2cDriverOptions {
  /** Guest memory holding the ring and the request buffers. */
  readonly memory: GuestMemory;
  /** Allocates the ring and (freed after use) the request buffers. */
  readonly allocator: GuestAllocator;
  /** Requested requestq size (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** Ring features the driver accepts when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
}

/** One segment of a transfer: write `write` bytes, or read `read` bytes, at a 7-bit (or 10-bit) address. */
export type I2cSegment =
  | { readonly addr: number; readonly tenBit?: boolean; readonly write: Uint8Array }
  | { readonly addr: number; readonly tenBit?: boolean; readonly read: number };

/** What a transfer did. */
export interface I2cTransferResult {
  /** Segments that completed before the first failure ([i2c.drv.9]); all of them on success. */
  readonly completed: number;
  /** Per segment: the bytes read, for read segments that completed; undefined otherwise ([i2c.drv.5]). */
  readonly data: readonly (Uint8Array | undefined)[];
}

/** Why a transfer failed without an answer (reset, DEVICE_NEEDS_RESET) or did not complete. */
export class I2cDriverError extends Error {
  override readonly name = 'I2cDriverError';
}

interface Transfer {
  readonly segments: readonly I2cSegment[];
  /** Descriptors the whole group needs without indirect tables. */
  readonly descriptors: number;
  resolve(result: I2cTransferResult): void;
  reject(err: Error): void;
}

interface Placed {
  readonly transfer: Transfer;
  /** Per request: its buffer (out_hdr, buf, in_hdr back to back). */
  readonly addrs: number[];
  /** Requests the device has returned so far. */
  returned: number;
}

interface Token {
  readonly placed: Placed;
  readonly index: number;
}

const bufLen = (s: I2cSegment) => ('write' in s ? s.write.length : s.read);

export class I2cDriver {
  readonly device: DriverDevice;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  /** Transfers not yet on the ring, oldest first: they go out in this order ([i2c.drv.8]). */
  readonly #backlog: Transfer[] = [];
  readonly #inFlight = new Set<Placed>();
  #closed: Error | undefined;

  private constructor(device: DriverDevice, opts: I2cDriverOptions) {
    this.device = device;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
  }

  /**
   * Initializes the I2C adapter behind `transport` (spec 3.1.1, 5.16.5).
   * @throws DeviceInitError 'missing-features' (after setting FAILED) when the device does not
   * offer VIRTIO_I2C_F_ZERO_LENGTH_REQUEST ([i2c.drv.1]); other errors of the sequence
   */
  static initialize(transport: DriverTransport, opts: I2cDriverOptions): I2cDriver {
    const zeroLength = featureMask(VIRTIO_I2C_F_ZERO_LENGTH_REQUEST);
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: zeroLength | (opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)),
      requiredFeatures: zeroLength,
      queues: [{ index: VIRTIO_I2C_REQUESTQ, size: opts.queueSize }],
    });
    return new I2cDriver(device, opts);
  }

  /** Transfers on the ring or waiting for room. */
  get pending(): number {
    return this.#inFlight.size + this.#backlog.length;
  }

  /**
   * Runs one I2C transaction: its segments in order, as one group of requests. Resolves with
   * how many completed and the data of completed reads.
   * @throws RangeError (synchronously) for no segments, a bad address or length, or a group
   * needing more descriptors than the queue has; the promise rejects with I2cDriverError on reset
   */
  transfer(segments: readonly I2cSegment[]): Promise<I2cTransferResult> {
    if (segments.length === 0) throw new RangeError('i2c: a transfer needs at least one segment');
    let descriptors = 0;
    for (const s of segments) {
      encodeI2cAddress(s.addr, s.tenBit);
      const len = bufLen(s);
      if (!Number.isInteger(len) || len < 0 || len > 0xffffffff - 16) throw new RangeError(`i2c: segment length ${len}`);
      // out_hdr and in_hdr, plus buf unless zero-length ([i2c.drv.4]).
      descriptors += len === 0 ? 2 : 3;
    }
    const q = this.#queue;
    if (q && descriptors > q.config.size) throw new RangeError(`i2c: ${segments.length} segments need ${descriptors} descriptors; the queue has ${q.config.size}`);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#backlog.push({ segments, descriptors, resolve, reject });
      this.#submit();
    });
  }

  /** Writes `data` to the target at `addr`. @throws I2cDriverError (rejects) when not acknowledged */
  async write(addr: number, data: Uint8Array, opts: { tenBit?: boolean } = {}): Promise<void> {
    await this.#all([{ addr, tenBit: opts.tenBit, write: data }]);
  }

  /** Reads `len` bytes from the target at `addr`. @throws I2cDriverError (rejects) when not acknowledged */
  async read(addr: number, len: number, opts: { tenBit?: boolean } = {}): Promise<Uint8Array> {
    return (await this.#all([{ addr, tenBit: opts.tenBit, read: len }]))[0] as Uint8Array;
  }

  /** Writes `data` (e.g. a register number), then reads `len` bytes, in one transaction. @throws I2cDriverError (rejects) */
  async writeRead(addr: number, data: Uint8Array, len: number, opts: { tenBit?: boolean } = {}): Promise<Uint8Array> {
    return (await this.#all([{ addr, tenBit: opts.tenBit, write: data }, { addr, tenBit: opts.tenBit, read: len }]))[1] as Uint8Array;
  }

  /** A zero-length write (SMBus Quick, an address probe): resolves whether the target acknowledged. */
  async probe(addr: number, opts: { tenBit?: boolean } = {}): Promise<boolean> {
    return (await this.transfer([{ addr, tenBit: opts.tenBit, write: new Uint8Array(0) }])).completed === 1;
  }

  /** Call when the device interrupts: completes returned requests. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new I2cDriverError('i2c: the device needs a reset'));
      return;
    }
    if (ev.usedBuffer) this.#reap();
  }

  /** Resets the device; pending transfers reject and their buffers are freed. */
  reset(): void {
    this.device.reset();
    this.#close(new I2cDriverError('i2c: device reset'));
  }

  get #queue(): DriverQueue<Token> | undefined {
    return this.device.queues[VIRTIO_I2C_REQUESTQ] as DriverQueue<Token> | undefined;
  }

  async #all(segments: I2cSegment[]): Promise<(Uint8Array | undefined)[]> {
    const r = await this.transfer(segments);
    if (r.completed < segments.length) throw new I2cDriverError(`i2c: segment ${r.completed} of ${segments.length} failed`);
    return [...r.data];
  }

  /** Places whole groups while the ring has room for them, oldest first, and notifies once. */
  #submit(): void {
    const q = this.#queue;
    if (!q) return;
    let added = false;
    while (this.#backlog.length > 0) {
      const t = this.#backlog[0];
      // A group goes on the ring whole or not at all (the device waits for its last request).
      if (q.numFree < t.descriptors) break;
      const placed = this.#place(q, t);
      if (placed === 'failed') continue;
      if (placed === 'wait') break;
      this.#backlog.shift();
      this.#inFlight.add(placed);
      added = true;
    }
    if (added) this.device.kick(VIRTIO_I2C_REQUESTQ);
  }

  /**
   * Writes and adds every request of `t`. When memory runs out nothing is added: 'wait' while
   * other transfers are in flight (their memory comes back), else `t` is dropped and rejected ('failed').
   */
  #place(q: DriverQueue<Token>, t: Transfer): Placed | 'wait' | 'failed' {
    const m = this.#memory;
    const addrs: number[] = [];
    try {
      for (const s of t.segments) addrs.push(this.#allocator.alloc(VIRTIO_I2C_OUT_HDR_SIZE + bufLen(s) + VIRTIO_I2C_IN_HDR_SIZE, 8));
    } catch (err) {
      for (const a of addrs) this.#allocator.free(a);
      if (this.#inFlight.size > 0) return 'wait';
      this.#backlog.shift();
      t.reject(err as Error);
      return 'failed';
    }
    const placed: Placed = { transfer: t, addrs, returned: 0 };
    const last = t.segments.length - 1;
    t.segments.forEach((s, i) => {
      const at = addrs[i];
      const len = bufLen(s);
      const read = !('write' in s);
      // [i2c.drv.2] [i2c.drv.3] addr and flags set, reserved bits zero; [i2c.drv.6] [i2c.drv.7] M_RD exactly for reads.
      const flags = (i < last ? 1 << VIRTIO_I2C_FLAGS_FAIL_NEXT : 0) | (read ? 1 << VIRTIO_I2C_FLAGS_M_RD : 0);
      m.writeU16(at, encodeI2cAddress(s.addr, s.tenBit));
      m.writeU16(at + 2, 0);
      m.writeU32(at + 4, flags);
      if ('write' in s) m.write(at + VIRTIO_I2C_OUT_HDR_SIZE, s.write);
      m.writeU8(at + VIRTIO_I2C_OUT_HDR_SIZE + len, 0xff);
      const hdr: Segment = { addr: at, len: VIRTIO_I2C_OUT_HDR_SIZE };
      const buf: Segment = { addr: at + VIRTIO_I2C_OUT_HDR_SIZE, len };
      const status: Segment = { addr: at + VIRTIO_I2C_OUT_HDR_SIZE + len, len: VIRTIO_I2C_IN_HDR_SIZE };
      // [i2c.drv.4] no buf for a zero-length request.
      const out = len > 0 && !read ? [hdr, buf] : [hdr];
      const inSegs = len > 0 && read ? [buf, status] : [status];
      // Room was checked for the whole group: every add succeeds, in order ([i2c.drv.8]).
      q.add(out, inSegs, { placed, index: i });
    });
    return placed;
  }

  #reap(): void {
    const q = this.#queue;
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const { placed } = used.token;
        if (!this.#inFlight.has(placed)) continue;
        if (++placed.returned === placed.addrs.length) this.#finish(placed);
      }
      if (!q.enableInterrupts()) break;
    }
    this.#submit();
  }

  /** All requests of a transfer are back: the first that is not OK fails it and the rest ([i2c.drv.9]). */
  #finish(p: Placed): void {
    this.#inFlight.delete(p);
    const m = this.#memory;
    const segs = p.transfer.segments;
    let completed = 0;
    while (completed < segs.length && m.readU8(p.addrs[completed] + VIRTIO_I2C_OUT_HDR_SIZE + bufLen(segs[completed])) === VIRTIO_I2C_MSG_OK) completed++;
    const data = segs.map((s, i) => {
      // [i2c.drv.5] buf of a failed read is never used.
      if (i >= completed || 'write' in s) return undefined;
      const bytes = new Uint8Array(s.read);
      m.read(p.addrs[i] + VIRTIO_I2C_OUT_HDR_SIZE, bytes);
      return bytes;
    });
    for (const a of p.addrs) this.#allocator.free(a);
    p.transfer.resolve({ completed, data });
  }

  #close(err: Error): void {
    this.#closed = err;
    const free = !this.device.needsReset;
    for (const p of this.#inFlight) {
      if (free) for (const a of p.addrs) this.#allocator.free(a);
      p.transfer.reject(err);
    }
    this.#inFlight.clear();
    for (const t of this.#backlog.splice(0)) t.reject(err);
  }
}
