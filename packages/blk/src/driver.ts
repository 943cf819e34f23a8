/**
 * A virtio block driver (driver side of spec 5.2) over @virtio/core's initialization: reads
 * the configuration, submits requests on any request queue and resolves each request's promise
 * with its status byte when the device uses it. Requests are checked against the spec's
 * driver requirements before anything is exposed to the device.
 */
import {
  featureMask,
  hasFeature,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  type DriverDevice,
  type DriverTransport,
  type ResetWaitOptions,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory, Segment } from '@virtio/ring';
import { BlkConfigOffset as O } from './config.js';
import { BlkDriverError } from './errors.js';
import {
  VIRTIO_BLK_DISCARD_SEGMENT_SIZE,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_CONFIG_WCE,
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_GEOMETRY,
  VIRTIO_BLK_F_LIFETIME,
  VIRTIO_BLK_F_MQ,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SECURE_ERASE,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_SIZE_MAX,
  VIRTIO_BLK_F_TOPOLOGY,
  VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_BLK_F_ZONED,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_LIFETIME_SIZE,
  VIRTIO_BLK_REQ_HEADER_SIZE,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_T_DISCARD,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_GET_LIFETIME,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_SECURE_ERASE,
  VIRTIO_BLK_T_WRITE_ZEROES,
  VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
  type BlkLifetime,
} from './protocol.js';

/** Every feature this driver can use (VIRTIO_BLK_F_ZONED is never accepted). */
export const BLK_DRIVER_FEATURES =
  featureMask(
    VIRTIO_BLK_F_SIZE_MAX,
    VIRTIO_BLK_F_SEG_MAX,
    VIRTIO_BLK_F_GEOMETRY,
    VIRTIO_BLK_F_RO,
    VIRTIO_BLK_F_BLK_SIZE,
    VIRTIO_BLK_F_FLUSH,
    VIRTIO_BLK_F_TOPOLOGY,
    VIRTIO_BLK_F_CONFIG_WCE,
    VIRTIO_BLK_F_MQ,
    VIRTIO_BLK_F_DISCARD,
    VIRTIO_BLK_F_WRITE_ZEROES,
    VIRTIO_BLK_F_LIFETIME,
    VIRTIO_BLK_F_SECURE_ERASE,
  ) | featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

/** Offset of struct virtio_blk_config.zoned.model. */
const ZONED_MODEL = 92;
const VIRTIO_BLK_Z_HM = 1;

export interface BlkDriverOptions {
  readonly memory: GuestMemory;
  /** Where rings and the per-request headers and status bytes are allocated. */
  readonly allocator: GuestAllocator;
  /** Features to accept when offered (default {@link BLK_DRIVER_FEATURES}); ZONED is always refused. */
  readonly wantedFeatures?: bigint;
  /** Request queues to use, at most num_queues (default all with VIRTIO_BLK_F_MQ, else 1). */
  readonly queues?: number;
  /** Queue size to ask for (default the device's maximum). */
  readonly queueSize?: number;
}

/** The configuration the driver read after FEATURES_OK; absent features read as 0. */
export interface BlkDriverConfig {
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  readonly sizeMax: number;
  readonly segMax: number;
  /** Block size in bytes (512 without VIRTIO_BLK_F_BLK_SIZE). */
  readonly blkSize: number;
  readonly numQueues: number;
  /** Whether the device's cache is writeback (completed writes need a FLUSH to be stable). */
  readonly writeback: boolean;
  readonly readOnly: boolean;
  readonly maxDiscardSectors: number;
  readonly maxDiscardSeg: number;
  readonly maxWriteZeroesSectors: number;
  readonly maxWriteZeroesSeg: number;
  readonly writeZeroesMayUnmap: boolean;
  readonly maxSecureEraseSectors: number;
  readonly maxSecureEraseSeg: number;
}

/** One segment of a DISCARD, WRITE_ZEROES or SECURE_ERASE request, in 512-byte sectors. */
export interface BlkRange {
  readonly sector: number;
  readonly numSectors: number;
}

/** Largest number of discard-like segments one request carries (per-request payload room). */
const MAX_RANGES = 16;
const SLOT_STATUS = VIRTIO_BLK_REQ_HEADER_SIZE;
const SLOT_PAYLOAD = 32;
const SLOT_SIZE = SLOT_PAYLOAD + MAX_RANGES * VIRTIO_BLK_DISCARD_SEGMENT_SIZE;

interface Pending {
  readonly resolve: (status: number) => void;
  readonly reject: (err: Error) => void;
}

/** Per-queue driver state: the ring, a slab of request slots (header, status, payload). */
class RequestQueue {
  readonly free: number[] = [];
  readonly pending: (Pending | undefined)[];
  /** Requests waiting for a free slot or ring room, oldest first; each returns false while it still cannot go. */
  readonly waiting: (() => boolean)[] = [];
  kickScheduled = false;

  constructor(
    readonly ring: DriverQueue<number>,
    readonly slab: number,
    slots: number,
  ) {
    this.pending = new Array<Pending | undefined>(slots).fill(undefined);
    for (let i = slots - 1; i >= 0; i--) this.free.push(i);
  }
}

export class BlkDriver {
  readonly device: DriverDevice;
  readonly memory: GuestMemory;
  /** Read after FEATURES_OK ([blk.drv.3]); {@link refreshConfig} re-reads it. */
  config: BlkDriverConfig;
  readonly #queues: RequestQueue[] = [];
  #failed: Error | undefined;
  #inFlight = 0;

  /**
   * Initializes the device behind `transport` (spec 3.1.1) as a block device.
   * @throws DeviceInitError when the device is not usable (e.g. a host-managed zoned device)
   */
  constructor(transport: DriverTransport, opts: BlkDriverOptions) {
    this.memory = opts.memory;
    const wanted = (opts.wantedFeatures ?? BLK_DRIVER_FEATURES) & ~featureMask(VIRTIO_BLK_F_ZONED);
    const queues: { index: number; size?: number }[] = [];
    this.device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: wanted,
      queues,
      checkConfig: (config, offered) => {
        // A host-managed zoned device cannot be driven as a plain disk ([blk.drv.7]): refuse it
        // (FAILED, never FEATURES_OK), so DISCARD is never accepted from it ([blk.drv.5]).
        if (hasFeature(offered, VIRTIO_BLK_F_ZONED) && config.u8(ZONED_MODEL) === VIRTIO_BLK_Z_HM) return false;
        const mq = hasFeature(offered & wanted, VIRTIO_BLK_F_MQ);
        const max = mq ? Math.max(1, config.u16(O.num_queues)) : 1;
        const n = Math.min(max, opts.queues ?? max);
        for (let i = 0; i < n; i++) queues.push({ index: i, size: opts.queueSize });
        return n >= 1;
      },
    });
    this.config = this.#readConfig();
    for (const q of this.device.queues) {
      if (!q) continue;
      const slab = opts.allocator.alloc(SLOT_SIZE * q.config.size, 16);
      this.#queues.push(new RequestQueue(q as DriverQueue<number>, slab, q.config.size));
    }
  }

  /** The negotiated feature bits. */
  get features(): bigint {
    return this.device.features;
  }

  /** Number of request queues in use. */
  get numQueues(): number {
    return this.#queues.length;
  }

  /** Requests submitted and not yet completed. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Re-reads the configuration (after a configuration change notification, [blk.drv.9]). */
  refreshConfig(): BlkDriverConfig {
    this.config = this.#readConfig();
    return this.config;
  }

  #readConfig(): BlkDriverConfig {
    const f = this.device.features;
    const has = (bit: number) => hasFeature(f, bit);
    return this.device.readConfig((c) => ({
      capacity: Number(c.u64(O.capacity)),
      sizeMax: has(VIRTIO_BLK_F_SIZE_MAX) ? c.u32(O.size_max) : 0,
      segMax: has(VIRTIO_BLK_F_SEG_MAX) ? c.u32(O.seg_max) : 1,
      blkSize: has(VIRTIO_BLK_F_BLK_SIZE) ? c.u32(O.blk_size) : VIRTIO_BLK_SECTOR_SIZE,
      numQueues: has(VIRTIO_BLK_F_MQ) ? c.u16(O.num_queues) : 1,
      // [blk.drv.2] FLUSH without CONFIG_WCE: assume writeback; neither: writethrough.
      writeback: has(VIRTIO_BLK_F_CONFIG_WCE) ? c.u8(O.writeback) === 1 : has(VIRTIO_BLK_F_FLUSH),
      readOnly: has(VIRTIO_BLK_F_RO),
      maxDiscardSectors: has(VIRTIO_BLK_F_DISCARD) ? c.u32(O.max_discard_sectors) : 0,
      maxDiscardSeg: has(VIRTIO_BLK_F_DISCARD) ? c.u32(O.max_discard_seg) : 0,
      maxWriteZeroesSectors: has(VIRTIO_BLK_F_WRITE_ZEROES) ? c.u32(O.max_write_zeroes_sectors) : 0,
      maxWriteZeroesSeg: has(VIRTIO_BLK_F_WRITE_ZEROES) ? c.u32(O.max_write_zeroes_seg) : 0,
      writeZeroesMayUnmap: has(VIRTIO_BLK_F_WRITE_ZEROES) && c.u8(O.write_zeroes_may_unmap) !== 0,
      maxSecureEraseSectors: has(VIRTIO_BLK_F_SECURE_ERASE) ? c.u32(O.max_secure_erase_sectors) : 0,
      maxSecureEraseSeg: has(VIRTIO_BLK_F_SECURE_ERASE) ? c.u32(O.max_secure_erase_seg) : 0,
    }));
  }

  /**
   * Reads sectors into the device-writable guest buffers `data` (total a multiple of 512 bytes).
   * @returns the status byte (VIRTIO_BLK_S_*)
   * @throws (rejects) RangeError for a request the spec forbids the driver to send; BlkDriverError when the device failed
   */
  read(sector: number, data: readonly Segment[], queue = 0): Promise<number> {
    return this.#io(VIRTIO_BLK_T_IN, sector, data, queue);
  }

  /** Writes the guest buffers `data` (total a multiple of 512 bytes) at `sector`. Same contract as {@link read}. */
  write(sector: number, data: readonly Segment[], queue = 0): Promise<number> {
    return this.#io(VIRTIO_BLK_T_OUT, sector, data, queue);
  }

  /** Makes completed writes stable. Sector 0, no data ([blk.drv.12]). */
  flush(queue = 0): Promise<number> {
    if (!hasFeature(this.features, VIRTIO_BLK_F_FLUSH)) return Promise.reject(new RangeError('blk: VIRTIO_BLK_F_FLUSH was not negotiated'));
    return this.#submit(queue, VIRTIO_BLK_T_FLUSH, 0, [], [], 0, 0);
  }

  /** Discards ranges (unmap flag always 0, [blk.drv.20]). */
  discard(ranges: readonly BlkRange[], queue = 0): Promise<number> {
    const c = this.config;
    return this.#ranges(VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_T_DISCARD, ranges, false, c.maxDiscardSeg, c.maxDiscardSectors, queue);
  }

  /** Zeroes ranges; with `unmap` the device may deallocate them. */
  writeZeroes(ranges: readonly BlkRange[], unmap: boolean, queue = 0): Promise<number> {
    const c = this.config;
    return this.#ranges(VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_T_WRITE_ZEROES, ranges, unmap, c.maxWriteZeroesSeg, c.maxWriteZeroesSectors, queue);
  }

  /** Securely erases ranges. */
  secureErase(ranges: readonly BlkRange[], queue = 0): Promise<number> {
    const c = this.config;
    return this.#ranges(VIRTIO_BLK_F_SECURE_ERASE, VIRTIO_BLK_T_SECURE_ERASE, ranges, false, c.maxSecureEraseSeg, c.maxSecureEraseSectors, queue);
  }

  /** The device ID string (GET_ID with a 20-byte buffer, [blk.drv.15]); undefined when the status is not OK. */
  async getId(queue = 0): Promise<{ status: number; id: string | undefined }> {
    let id: string | undefined;
    const status = await this.#submit(queue, VIRTIO_BLK_T_GET_ID, 0, [], [], 0, VIRTIO_BLK_ID_BYTES, (payload) => {
      const b = new Uint8Array(VIRTIO_BLK_ID_BYTES);
      this.memory.read(payload, b);
      const end = b.indexOf(0);
      id = String.fromCharCode(...b.subarray(0, end < 0 ? b.length : end));
    });
    return { status, id: status === VIRTIO_BLK_S_OK ? id : undefined };
  }

  /** The storage lifetime metrics (VIRTIO_BLK_F_LIFETIME). */
  async getLifetime(queue = 0): Promise<{ status: number; lifetime: BlkLifetime | undefined }> {
    let lifetime: BlkLifetime | undefined;
    const status = await this.#submit(queue, VIRTIO_BLK_T_GET_LIFETIME, 0, [], [], 0, VIRTIO_BLK_LIFETIME_SIZE, (p) => {
      const m = this.memory;
      lifetime = { preEolInfo: m.readU16(p), deviceLifetimeEstTypA: m.readU16(p + 2), deviceLifetimeEstTypB: m.readU16(p + 4) };
    });
    return { status, lifetime: status === VIRTIO_BLK_S_OK ? lifetime : undefined };
  }

  /**
   * Switches the cache mode (VIRTIO_BLK_F_CONFIG_WCE). Switching to writethrough does not make
   * earlier volatile writes stable ([blk.drv.19]), so a FLUSH follows; resolves to its status
   * (OK when none was needed).
   */
  async setWriteback(enabled: boolean): Promise<number> {
    if (!hasFeature(this.features, VIRTIO_BLK_F_CONFIG_WCE)) throw new RangeError('blk: VIRTIO_BLK_F_CONFIG_WCE was not negotiated');
    const was = this.config.writeback;
    this.device.writeConfig(O.writeback, 1, enabled ? 1 : 0);
    this.refreshConfig();
    return was && !enabled ? this.flush() : VIRTIO_BLK_S_OK;
  }

  /**
   * Call when the device's interrupt fires: acknowledges it and completes used requests. On
   * DEVICE_NEEDS_RESET every outstanding request rejects with BlkDriverError 'needs-reset'.
   */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) this.#fail(new BlkDriverError('needs-reset', 'the device set DEVICE_NEEDS_RESET'));
    if (ev.configChange) this.refreshConfig();
    this.poll();
  }

  /** Completes every used request without waiting for an interrupt. */
  poll(): void {
    for (const rq of this.#queues) {
      try {
        do {
          let used;
          while ((used = rq.ring.reap()) !== null) this.#complete(rq, used.token);
        } while (rq.ring.enableInterrupts());
      } catch (err) {
        this.#fail(new BlkDriverError('bad-device', (err as Error).message));
        return;
      }
      while (rq.waiting.length > 0 && rq.free.length > 0 && rq.waiting[0]()) rq.waiting.shift();
    }
  }

  /**
   * Resets the device; outstanding requests reject with BlkDriverError 'reset' at once. The
   * promise resolves when the device reads status 0 ([basic.drv.7]): the device waits for
   * backend work in flight, and only then may the guest buffers of those requests be reused.
   * Its reset effects start synchronously. @throws DeviceInitError 'reset-timeout' (rejects)
   */
  reset(opts?: ResetWaitOptions): Promise<void> {
    this.#fail(new BlkDriverError('reset', 'the driver reset the device'));
    return this.device.resetAsync(opts);
  }

  #complete(rq: RequestQueue, slot: number): void {
    const p = rq.pending[slot];
    if (!p) return;
    rq.pending[slot] = undefined;
    rq.free.push(slot);
    this.#inFlight--;
    p.resolve(this.memory.readU8(rq.slab + slot * SLOT_SIZE + SLOT_STATUS));
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const rq of this.#queues) {
      for (let i = 0; i < rq.pending.length; i++) {
        const p = rq.pending[i];
        if (!p) continue;
        rq.pending[i] = undefined;
        this.#inFlight--;
        p.reject(err);
      }
      rq.waiting.length = 0;
    }
  }

  #io(type: number, sector: number, data: readonly Segment[], queue: number): Promise<number> {
    let len = 0;
    for (const s of data) len += s.len;
    // [blk.drv.13] whole sectors; [blk.drv.10] never beyond capacity.
    if (len % VIRTIO_BLK_SECTOR_SIZE !== 0) return Promise.reject(new RangeError(`blk: data length ${len} is not a multiple of 512`));
    if (!this.#inCapacity(sector, len / VIRTIO_BLK_SECTOR_SIZE)) {
      return Promise.reject(new RangeError(`blk: sectors [${sector}, +${len / VIRTIO_BLK_SECTOR_SIZE}) beyond capacity ${this.config.capacity}`));
    }
    if (type === VIRTIO_BLK_T_OUT && this.config.readOnly) return Promise.reject(new RangeError('blk: the device is read-only'));
    return type === VIRTIO_BLK_T_IN ? this.#submit(queue, type, sector, [], data, 0, 0) : this.#submit(queue, type, sector, data, [], 0, 0);
  }

  #inCapacity(sector: number, count: number): boolean {
    const cap = this.config.capacity;
    return Number.isSafeInteger(sector) && sector >= 0 && sector <= cap && count <= cap - sector;
  }

  #ranges(bit: number, type: number, ranges: readonly BlkRange[], unmap: boolean, maxSeg: number, maxSectors: number, queue: number): Promise<number> {
    if (!hasFeature(this.features, bit)) return Promise.reject(new RangeError(`blk: feature ${bit} was not negotiated`));
    // [blk.drv.16] [blk.drv.17] [blk.drv.18] at most max_*_seg segments.
    if (ranges.length === 0 || ranges.length > Math.min(maxSeg, MAX_RANGES)) {
      return Promise.reject(new RangeError(`blk: ${ranges.length} segments (1..${Math.min(maxSeg, MAX_RANGES)} allowed)`));
    }
    for (const r of ranges) {
      if (!Number.isInteger(r.numSectors) || r.numSectors < 0 || r.numSectors > maxSectors || !this.#inCapacity(r.sector, r.numSectors)) {
        return Promise.reject(new RangeError(`blk: range [${r.sector}, +${r.numSectors}) not allowed`));
      }
    }
    const write = (payload: number) => {
      const m = this.memory;
      ranges.forEach((r, i) => {
        const a = payload + i * VIRTIO_BLK_DISCARD_SEGMENT_SIZE;
        m.writeU64(a, r.sector);
        m.writeU32(a + 8, r.numSectors);
        m.writeU32(a + 12, unmap ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0);
      });
    };
    return this.#submit(queue, type, 0, [], [], ranges.length * VIRTIO_BLK_DISCARD_SEGMENT_SIZE, 0, undefined, write);
  }

  /**
   * Exposes one request: header (+ `payloadOut` bytes of the slot's payload) device-readable,
   * then `dataIn` (+ `payloadIn` bytes of payload) and the status byte device-writable.
   */
  #submit(
    queue: number,
    type: number,
    sector: number,
    dataOut: readonly Segment[],
    dataIn: readonly Segment[],
    payloadOut: number,
    payloadIn: number,
    onDone?: (payload: number) => void,
    fill?: (payload: number) => void,
  ): Promise<number> {
    if (this.#failed) return Promise.reject(this.#failed);
    const rq = this.#queues[queue];
    if (!rq) return Promise.reject(new RangeError(`blk: no request queue ${queue}`));
    return new Promise<number>((resolve, reject) => {
      const attempt = (): boolean => {
        const slot = rq.free.pop();
        if (slot === undefined) return false;
        const base = rq.slab + slot * SLOT_SIZE;
        const m = this.memory;
        m.writeU32(base, type);
        m.writeU32(base + 4, 0);
        m.writeU64(base + 8, sector);
        m.writeU8(base + SLOT_STATUS, 0xff);
        fill?.(base + SLOT_PAYLOAD);
        const out: Segment[] = [{ addr: base, len: VIRTIO_BLK_REQ_HEADER_SIZE }, ...dataOut];
        if (payloadOut > 0) out.push({ addr: base + SLOT_PAYLOAD, len: payloadOut });
        const inSegs: Segment[] = [...dataIn];
        if (payloadIn > 0) inSegs.push({ addr: base + SLOT_PAYLOAD, len: payloadIn });
        inSegs.push({ addr: base + SLOT_STATUS, len: 1 });
        if (!rq.ring.add(out, inSegs, slot)) {
          rq.free.push(slot);
          if (rq.free.length < rq.pending.length) return false;
          // Nothing in flight on this queue, yet no room: the request can never fit.
          reject(new RangeError(`blk: a request of ${out.length + inSegs.length} segments never fits queue ${queue}`));
          return true;
        }
        this.#inFlight++;
        rq.pending[slot] = {
          resolve: (status) => {
            if (onDone && status === VIRTIO_BLK_S_OK) onDone(base + SLOT_PAYLOAD);
            resolve(status);
          },
          reject,
        };
        this.#scheduleKick(rq, queue);
        return true;
      };
      if (rq.waiting.length > 0 || !attempt()) rq.waiting.push(attempt);
    });
  }

  /** One notification decision per queue per microtask, however many requests were added. */
  #scheduleKick(rq: RequestQueue, queue: number): void {
    if (rq.kickScheduled) return;
    rq.kickScheduled = true;
    queueMicrotask(() => {
      rq.kickScheduled = false;
      if (!this.#failed) this.device.kick(queue);
    });
  }
}
