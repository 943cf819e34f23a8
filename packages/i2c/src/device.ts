/**
 * The I2C adapter device, device side (spec 5.16): takes requestq requests in order, groups
 * them into transfers with VIRTIO_I2C_FLAGS_FAIL_NEXT, runs each transfer on an
 * {@link I2cBackend} (one at a time, so requests are processed in order, [i2c.dev.6]) and
 * returns every request with its status.
 *
 * A malformed request fails (VIRTIO_I2C_MSG_ERR) with its whole group, which is then not run.
 * Only a chain without a device-writable byte for the status sets DEVICE_NEEDS_RESET.
 */
import {
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  type ActivateContext,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue, type GuestMemory } from '@virtio/ring';
import { decodeI2cAddress } from './address.js';
import type { I2cBackend, I2cMessage } from './backends/backend.js';
import { I2cRequestError } from './errors.js';
import {
  I2C_DEFAULT_MAX_SEGMENT,
  VIRTIO_I2C_DEVICE_ID,
  VIRTIO_I2C_F_ZERO_LENGTH_REQUEST,
  VIRTIO_I2C_FLAGS_DEFINED,
  VIRTIO_I2C_FLAGS_FAIL_NEXT,
  VIRTIO_I2C_FLAGS_M_RD,
  VIRTIO_I2C_IN_HDR_SIZE,
  VIRTIO_I2C_MSG_ERR,
  VIRTIO_I2C_MSG_OK,
  VIRTIO_I2C_OUT_HDR_SIZE,
  VIRTIO_I2C_REQUESTQ,
} from './protocol.js';

export interface I2cDeviceOptions {
  /** Where transfers go: e.g. a {@link SimulatedI2cBus}. */
  readonly bus: I2cBackend;
  /** Maximum requestq size (descriptors, 1..32768). Default 64. */
  readonly queueSize?: number;
  /** Longest buf of one request, in bytes; longer requests fail. Default 65535. */
  readonly maxSegmentLength?: number;
  /**
   * Ring and transport feature bits offered besides VIRTIO_F_VERSION_1 and
   * VIRTIO_I2C_F_ZERO_LENGTH_REQUEST. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED | RING_RESET.
   */
  readonly ringFeatures?: bigint;
}

/** Counters since construction. */
export interface I2cStats {
  /** Transfers handed to the backend. */
  readonly transfers: number;
  /** Requests returned with VIRTIO_I2C_MSG_OK. */
  readonly ok: number;
  /** Requests returned with VIRTIO_I2C_MSG_ERR. */
  readonly failed: number;
}

export const I2C_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

/** One popped request. */
interface Request {
  readonly chain: DescriptorChain;
  readonly failNext: boolean;
  /** The segment for the backend; null when the request is malformed. */
  readonly message: I2cMessage | null;
}

const FAIL_NEXT = 1 << VIRTIO_I2C_FLAGS_FAIL_NEXT;
const M_RD = 1 << VIRTIO_I2C_FLAGS_M_RD;
const EMPTY = new Uint8Array(0);

export class I2cDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_I2C_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 1;
  /** No device configuration (spec 5.16.4). */
  readonly configSize = 0;

  readonly #bus: I2cBackend;
  readonly #queueSize: number;
  readonly #maxSegment: number;
  #ctx: ActivateContext | undefined;
  /** Requests of the group being collected (its last request, FAIL_NEXT clear, not yet seen). */
  #group: Request[] = [];
  /** A transfer is running on the backend: no other starts until it completes. */
  #running = false;
  /** Bumped by every reset and queue reset: a transfer from an older epoch is dropped. */
  #epoch = 0;
  #broken = false;
  #transfers = 0;
  #ok = 0;
  #failed = 0;

  /** @throws RangeError for out-of-range options */
  constructor(opts: I2cDeviceOptions) {
    const size = opts.queueSize ?? 64;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`i2c: queueSize ${size} outside 1..32768`);
    const max = opts.maxSegmentLength ?? I2C_DEFAULT_MAX_SEGMENT;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`i2c: maxSegmentLength ${max}`);
    this.#bus = opts.bus;
    this.#queueSize = size;
    this.#maxSegment = max;
    // [i2c.dev.1] VIRTIO_I2C_F_ZERO_LENGTH_REQUEST is always offered.
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1, VIRTIO_I2C_F_ZERO_LENGTH_REQUEST) | (opts.ringFeatures ?? I2C_DEFAULT_RING_FEATURES);
  }

  get stats(): I2cStats {
    return { transfers: this.#transfers, ok: this.#ok, failed: this.#failed };
  }

  queueMaxSize(index: number): number {
    return index === VIRTIO_I2C_REQUESTQ ? this.#queueSize : 0;
  }

  readConfig(): number {
    return 0;
  }

  writeConfig(): void {}

  /** [i2c.dev.1] a driver that does not accept VIRTIO_I2C_F_ZERO_LENGTH_REQUEST is refused at FEATURES_OK. */
  validateFeatures(features: bigint): boolean {
    return hasFeature(features, VIRTIO_I2C_F_ZERO_LENGTH_REQUEST);
  }

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#serve();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_I2C_REQUESTQ) this.#serve();
  }

  enableQueue(queueIndex: number): void {
    this.queueNotify(queueIndex);
  }

  /** Forgets the collected group and any running transfer (whose results then touch no guest memory). */
  resetQueue(queueIndex: number): void {
    if (queueIndex === VIRTIO_I2C_REQUESTQ) this.#drop();
  }

  reset(): void {
    this.#drop();
    this.#ctx = undefined;
    this.#broken = false;
  }

  #drop(): void {
    this.#epoch++;
    this.#group = [];
    this.#running = false;
  }

  /** Pops requests in order and runs each complete group, one transfer at a time. */
  #serve(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_I2C_REQUESTQ];
    if (!ctx || !q || this.#broken) return;
    try {
      while (!this.#running && !this.#broken) {
        const chain = q.pop();
        if (chain === null) {
          if (q.enableNotifications()) continue;
          break;
        }
        const req = this.#parse(ctx.memory, chain);
        this.#group.push(req);
        if (!req.failNext) this.#run(ctx, q);
      }
    } catch (err) {
      this.#fail(ctx, err);
    }
  }

  /**
   * Reads a request: out_hdr, then buf (device-readable for a write, device-writable for a
   * read), then in_hdr (the last device-writable byte).
   * @throws I2cRequestError when there is no device-writable byte for the status
   */
  #parse(m: GuestMemory, chain: DescriptorChain): Request {
    if (chain.writableLength < VIRTIO_I2C_IN_HDR_SIZE) throw new I2cRequestError(`requestq chain ${chain.id} has no device-writable byte for the status`);
    // Without a readable header the flags are unknown: the request ends its group.
    if (chain.readableLength < VIRTIO_I2C_OUT_HDR_SIZE) return { chain, failNext: false, message: null };
    const r = new ChainReader(m, chain.readable);
    const addr = r.readU16();
    r.skip(2); // padding
    const flags = r.readU32();
    const failNext = (flags & FAIL_NEXT) !== 0;
    const read = (flags & M_RD) !== 0;
    const target = decodeI2cAddress(addr);
    const bufLen = read ? chain.writableLength - VIRTIO_I2C_IN_HDR_SIZE : chain.readableLength - VIRTIO_I2C_OUT_HDR_SIZE;
    const valid =
      target !== null &&
      (flags & ~VIRTIO_I2C_FLAGS_DEFINED) === 0 &&
      bufLen <= this.#maxSegment &&
      // A read has nothing readable past out_hdr; a write nothing writable but in_hdr.
      (read ? chain.readableLength === VIRTIO_I2C_OUT_HDR_SIZE : chain.writableLength === VIRTIO_I2C_IN_HDR_SIZE);
    if (!valid || target === null) return { chain, failNext, message: null };
    const buf = bufLen === 0 ? EMPTY : read ? new Uint8Array(bufLen) : r.readBytes(bufLen);
    return { chain, failNext, message: { address: target.address, tenBit: target.tenBit, read, buf } };
  }

  /** Runs the collected group: all of it fails when one request is malformed. */
  #run(ctx: ActivateContext, q: DeviceQueue): void {
    const group = this.#group;
    this.#group = [];
    const messages: I2cMessage[] = [];
    for (const req of group) if (req.message) messages.push(req.message);
    if (messages.length < group.length) {
      this.#complete(ctx, q, group, 0);
      return;
    }
    this.#transfers++;
    let result: number | Promise<number>;
    try {
      result = this.#bus.transfer(messages);
    } catch {
      result = 0;
    }
    if (typeof result === 'number') {
      this.#complete(ctx, q, group, result);
      return;
    }
    this.#running = true;
    const epoch = this.#epoch;
    const finish = (n: number) => {
      if (epoch !== this.#epoch || ctx !== this.#ctx) return;
      this.#running = false;
      try {
        this.#complete(ctx, q, group, n);
      } catch (err) {
        this.#fail(ctx, err);
        return;
      }
      this.#serve();
    };
    result.then(finish, () => finish(0));
  }

  /**
   * Returns a group's requests in order: the first `done` OK (read data placed in buf), the
   * rest ERR ([i2c.dev.7]), then notifies once.
   */
  #complete(ctx: ActivateContext, q: DeviceQueue, group: readonly Request[], done: number): void {
    const m = ctx.memory;
    const n = Number.isInteger(done) ? Math.max(0, Math.min(done, group.length)) : 0;
    for (let i = 0; i < group.length; i++) {
      const { chain, message } = group[i];
      const ok = i < n && message !== null;
      const w = new ChainWriter(m, chain.writable);
      // [i2c.dev.5] a read places exactly "length of buf" bytes; [i2c.dev.4] a write's buf is never written.
      if (ok && message.read) w.write(message.buf);
      w.skip(w.remaining - VIRTIO_I2C_IN_HDR_SIZE);
      w.writeU8(ok ? VIRTIO_I2C_MSG_OK : VIRTIO_I2C_MSG_ERR);
      q.push(chain, w.written);
      if (ok) this.#ok++;
      else this.#failed++;
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_I2C_REQUESTQ);
  }

  #fail(ctx: ActivateContext, err: unknown): void {
    this.#broken = true;
    this.#drop();
    ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }
}
