/**
 * A virtio block driver (driver side of spec 5.2) over @virtio/core's initialization: reads
 * the configuration, submits requests on any request queue and resolves each request's promise
 * with its status byte when the device uses it. Requests are checked against the spec's
 * driver requirements before anything is exposed to the device. With `zoned: true` it drives
 * zoned devices too (VIRTIO_BLK_F_ZONED: zone report, open, close, finish, reset, reset all,
 * append, and writes held to the zone rules).
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
import { gather } from './request.js';
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
  VIRTIO_BLK_APPEND_SECTOR_SIZE,
  VIRTIO_BLK_T_ZONE_APPEND,
  VIRTIO_BLK_T_ZONE_CLOSE,
  VIRTIO_BLK_T_ZONE_FINISH,
  VIRTIO_BLK_T_ZONE_OPEN,
  VIRTIO_BLK_T_ZONE_REPORT,
  VIRTIO_BLK_T_ZONE_RESET,
  VIRTIO_BLK_T_ZONE_RESET_ALL,
  VIRTIO_BLK_Z_HA,
  VIRTIO_BLK_Z_HM,
  VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE,
  VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE,
  VIRTIO_BLK_ZT_CONV,
  type BlkLifetime,
} from './protocol.js';

/** Every feature this driver can use on a plain disk (VIRTIO_BLK_F_ZONED only with the `zoned` option). */
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


export interface BlkDriverOptions {
  readonly memory: GuestMemory;
  /** Where rings and the per-request headers and status bytes are allocated. */
  readonly allocator: GuestAllocator;
  /** Features to accept when offered (default {@link BLK_DRIVER_FEATURES}); ZONED only with `zoned`. */
  readonly wantedFeatures?: bigint;
  /**
   * Drive zoned devices: accept VIRTIO_BLK_F_ZONED when offered (host-managed and host-aware
   * devices), use the zone requests, hold writes to the zone rules. VIRTIO_BLK_F_DISCARD is then
   * never accepted (a host-managed device forbids it, [blk.drv.5]; zones are reset instead).
   * Without it a host-managed device is refused and a host-aware one driven as a plain disk.
   */
  readonly zoned?: boolean;
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
  /** The zoned characteristics, when VIRTIO_BLK_F_ZONED was negotiated with a HM or HA model. */
  readonly zoned: BlkZonedConfig | undefined;
}

/** struct virtio_blk_zoned_characteristics as read by the driver. */
export interface BlkZonedConfig {
  /** VIRTIO_BLK_Z_HM or VIRTIO_BLK_Z_HA. */
  readonly model: number;
  /** Sectors (512 bytes) per zone; the last zone may be smaller. */
  readonly zoneSectors: number;
  /** Zones on the device: ceil(capacity / zoneSectors). */
  readonly nrZones: number;
  /** 0: no limit. */
  readonly maxOpenZones: number;
  /** 0: no limit. */
  readonly maxActiveZones: number;
  /** Largest ZONE_APPEND in sectors (0: no ZONE_APPEND). */
  readonly maxAppendSectors: number;
  /** Bytes: the size and the end of every write to a sequential zone are multiples of it. */
  readonly writeGranularity: number;
}

/** struct virtio_blk_zone_descriptor as read from a zone report (sectors are 512 bytes). */
export interface BlkZoneDescriptor {
  /** `z_cap`: writable sectors when empty. */
  readonly capacity: number;
  /** `z_start`: the zone sector address. */
  readonly start: number;
  /** `z_wp`: the write pointer; undefined where the spec leaves it undefined (conventional, full, read-only, offline zones). */
  readonly writePointer: number | undefined;
  /** VIRTIO_BLK_ZT_*. */
  readonly type: number;
  /** VIRTIO_BLK_ZS_*. */
  readonly state: number;
}

/** One segment of a DISCARD, WRITE_ZEROES or SECURE_ERASE request, in 512-byte sectors. */
export interface BlkRange {
  readonly sector: number;
  readonly numSectors: number;
}

/** Largest number of discard-like segments one request carries (per-request payload room). */
const MAX_RANGES = 16;

/** The zoned characteristics of a negotiated VIRTIO_BLK_F_ZONED; undefined for VIRTIO_BLK_Z_NONE (a plain disk). */
function readZoned(model: number, capacity: number, zoneSectors: number, c: { u32(offset: number): number }): BlkZonedConfig | undefined {
  if ((model !== VIRTIO_BLK_Z_HM && model !== VIRTIO_BLK_Z_HA) || zoneSectors === 0) return undefined;
  return {
    model,
    zoneSectors,
    nrZones: Math.ceil(capacity / zoneSectors),
    maxOpenZones: c.u32(O.zoned_max_open_zones),
    maxActiveZones: c.u32(O.zoned_max_active_zones),
    maxAppendSectors: c.u32(O.zoned_max_append_sectors),
    writeGranularity: Math.max(VIRTIO_BLK_SECTOR_SIZE, c.u32(O.zoned_write_granularity)),
  };
}
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
  /** Zones a report showed conventional (writes to them follow the plain-disk rules). */
  readonly #conventional = new Set<number>();
  /** `z_cap` of zones seen in reports. */
  readonly #zoneCap = new Map<number, number>();

  /**
   * Initializes the device behind `transport` (spec 3.1.1) as a block device.
   * @throws DeviceInitError when the device is not usable (e.g. a host-managed zoned device)
   */
  constructor(transport: DriverTransport, opts: BlkDriverOptions) {
    this.memory = opts.memory;
    const base = opts.wantedFeatures ?? BLK_DRIVER_FEATURES;
    const wanted = opts.zoned ? (base | featureMask(VIRTIO_BLK_F_ZONED)) & ~featureMask(VIRTIO_BLK_F_DISCARD) : base & ~featureMask(VIRTIO_BLK_F_ZONED);
    const queues: { index: number; size?: number }[] = [];
    this.device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: wanted,
      queues,
      checkConfig: (config, offered) => {
        // A host-managed zoned device cannot be driven as a plain disk ([blk.drv.7]): without
        // `zoned`, refuse it (FAILED, never FEATURES_OK), so DISCARD is never accepted from it ([blk.drv.5]).
        if (!opts.zoned && hasFeature(offered, VIRTIO_BLK_F_ZONED) && config.u8(O.zoned_model) === VIRTIO_BLK_Z_HM) return false;
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
      zoned: has(VIRTIO_BLK_F_ZONED) ? readZoned(c.u8(O.zoned_model), Number(c.u64(O.capacity)), c.u32(O.zoned_zone_sectors), c) : undefined,
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
    if (type === VIRTIO_BLK_T_OUT && len > 0) {
      const bad = this.#zonedWrite(sector, len);
      if (bad) return Promise.reject(new RangeError(bad));
    }
    return type === VIRTIO_BLK_T_IN ? this.#submit(queue, type, sector, [], data, 0, 0) : this.#submit(queue, type, sector, data, [], 0, 0);
  }

  /**
   * [blk.drv.28] a write of `len` bytes at `sector` to a sequential zone (or one not yet known
   * conventional from a report): size and start multiples of write_granularity, within the
   * zone's writable capacity. @returns why it may not be sent, or undefined
   */
  #zonedWrite(sector: number, len: number, append = false): string | undefined {
    const z = this.config.zoned;
    if (!z) return undefined;
    const zone = Math.floor(sector / z.zoneSectors);
    if (!append && this.#conventional.has(zone) && this.#conventional.has(Math.floor((sector + len / VIRTIO_BLK_SECTOR_SIZE - 1) / z.zoneSectors))) return undefined;
    const wg = z.writeGranularity;
    if (len % wg !== 0 || (sector * VIRTIO_BLK_SECTOR_SIZE) % wg !== 0) return `blk: a write of ${len} bytes at sector ${sector} is not on write_granularity ${wg}`;
    const start = zone * z.zoneSectors;
    const cap = this.#zoneCap.get(zone) ?? Math.min(z.zoneSectors, this.config.capacity - start);
    if (sector + len / VIRTIO_BLK_SECTOR_SIZE > start + cap) return `blk: a write of ${len} bytes at sector ${sector} goes past the zone's writable capacity`;
    return undefined;
  }

  /** The zone starting at `sector` ([blk.drv.22] [blk.drv.24]); @returns why it is none, or undefined. */
  #zoneStart(sector: number): string | undefined {
    const z = this.config.zoned;
    if (!z) return 'blk: VIRTIO_BLK_F_ZONED was not negotiated';
    if (!Number.isSafeInteger(sector) || sector < 0 || sector >= this.config.capacity || sector % z.zoneSectors !== 0) {
      return `blk: sector ${sector} is not the start of a zone (zone_sectors ${z.zoneSectors})`;
    }
    return undefined;
  }

  /**
   * VIRTIO_BLK_T_ZONE_REPORT: the zones from the one holding `sector` ([blk.drv.23]: a sector
   * within the disk), as many as `buffer` (device-writable, at least 64 bytes) holds.
   * @returns the status and, when OK, the descriptors the device reported (also remembered:
   * conventional zones and zone capacities shape later write checks)
   * @throws (rejects) RangeError without VIRTIO_BLK_F_ZONED, for a sector beyond the disk or a buffer under 64 bytes
   */
  async reportZones(sector: number, buffer: readonly Segment[], queue = 0): Promise<{ status: number; zones: BlkZoneDescriptor[] }> {
    const z = this.config.zoned;
    if (!z) throw new RangeError('blk: VIRTIO_BLK_F_ZONED was not negotiated');
    if (!Number.isSafeInteger(sector) || sector < 0 || sector >= this.config.capacity) throw new RangeError(`blk: sector ${sector} beyond capacity ${this.config.capacity}`);
    let len = 0;
    for (const s of buffer) len += s.len;
    if (len < VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE) throw new RangeError(`blk: a zone report buffer of ${len} bytes`);
    const status = await this.#submit(queue, VIRTIO_BLK_T_ZONE_REPORT, sector, [], buffer, 0, 0);
    if (status !== VIRTIO_BLK_S_OK) return { status, zones: [] };
    // The device says how many descriptors it wrote; never believe more than the buffer holds.
    const head = new Uint8Array(8);
    gather(this.memory, buffer, 0, head);
    const claimed = new DataView(head.buffer).getBigUint64(0, true);
    const n = Math.min(Number(claimed > 0xffffffffn ? 0xffffffffn : claimed), Math.floor((len - VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE) / VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE));
    const raw = new Uint8Array(n * VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE);
    gather(this.memory, buffer, VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE, raw);
    const dv = new DataView(raw.buffer);
    const zones: BlkZoneDescriptor[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE;
      const wp = dv.getBigUint64(o + 16, true);
      const d: BlkZoneDescriptor = {
        capacity: Number(dv.getBigUint64(o, true)),
        start: Number(dv.getBigUint64(o + 8, true)),
        writePointer: wp < 2n ** 53n ? Number(wp) : undefined,
        type: raw[o + 24],
        state: raw[o + 25],
      };
      zones.push(d);
      if (d.start % z.zoneSectors !== 0 || d.start >= this.config.capacity) continue;
      const zone = d.start / z.zoneSectors;
      if (d.type === VIRTIO_BLK_ZT_CONV) this.#conventional.add(zone);
      else this.#conventional.delete(zone);
      this.#zoneCap.set(zone, Math.min(d.capacity, z.zoneSectors));
    }
    return { status, zones };
  }

  /** VIRTIO_BLK_T_ZONE_OPEN of the zone starting at `sector` ([blk.drv.24]). @throws (rejects) RangeError for a sector that starts no zone */
  zoneOpen(sector: number, queue = 0): Promise<number> {
    return this.#zoneOp(VIRTIO_BLK_T_ZONE_OPEN, sector, queue);
  }

  /** VIRTIO_BLK_T_ZONE_CLOSE of the zone starting at `sector` ([blk.drv.24]). */
  zoneClose(sector: number, queue = 0): Promise<number> {
    return this.#zoneOp(VIRTIO_BLK_T_ZONE_CLOSE, sector, queue);
  }

  /** VIRTIO_BLK_T_ZONE_FINISH of the zone starting at `sector` ([blk.drv.24]). */
  zoneFinish(sector: number, queue = 0): Promise<number> {
    return this.#zoneOp(VIRTIO_BLK_T_ZONE_FINISH, sector, queue);
  }

  /** VIRTIO_BLK_T_ZONE_RESET of the zone starting at `sector` ([blk.drv.24]). */
  zoneReset(sector: number, queue = 0): Promise<number> {
    return this.#zoneOp(VIRTIO_BLK_T_ZONE_RESET, sector, queue);
  }

  /** VIRTIO_BLK_T_ZONE_RESET_ALL, sector 0 ([blk.drv.25]). @throws (rejects) RangeError without VIRTIO_BLK_F_ZONED */
  zoneResetAll(queue = 0): Promise<number> {
    if (!this.config.zoned) return Promise.reject(new RangeError('blk: VIRTIO_BLK_F_ZONED was not negotiated'));
    return this.#submit(queue, VIRTIO_BLK_T_ZONE_RESET_ALL, 0, [], [], 0, 0);
  }

  #zoneOp(type: number, sector: number, queue: number): Promise<number> {
    const bad = this.#zoneStart(sector);
    if (bad) return Promise.reject(new RangeError(bad));
    return this.#submit(queue, type, sector, [], [], 0, 0);
  }

  /**
   * VIRTIO_BLK_T_ZONE_APPEND of `data` to the zone starting at `sector` ([blk.drv.26]: a zone
   * start, a size that is a multiple of write_granularity, at most max_append_sectors).
   * @returns the status and, when OK, `append_sector`: where the data landed ([blk.drv.27])
   * @throws (rejects) RangeError for a request the spec forbids
   */
  async zoneAppend(sector: number, data: readonly Segment[], queue = 0): Promise<{ status: number; appendSector: number | undefined }> {
    const bad = this.#zoneStart(sector);
    if (bad) throw new RangeError(bad);
    const z = this.config.zoned as BlkZonedConfig;
    let len = 0;
    for (const s of data) len += s.len;
    if (len % VIRTIO_BLK_SECTOR_SIZE !== 0 || len / VIRTIO_BLK_SECTOR_SIZE > z.maxAppendSectors) {
      throw new RangeError(`blk: an append of ${len} bytes (whole sectors, at most max_append_sectors ${z.maxAppendSectors})`);
    }
    const rule = this.#zonedWrite(sector, len, true);
    if (rule) throw new RangeError(rule);
    if (this.config.readOnly) throw new RangeError('blk: the device is read-only');
    let appendSector: number | undefined;
    const status = await this.#submit(queue, VIRTIO_BLK_T_ZONE_APPEND, sector, data, [], 0, VIRTIO_BLK_APPEND_SECTOR_SIZE, (payload) => {
      const v = this.memory.readU64(payload);
      appendSector = v < 2n ** 53n ? Number(v) : undefined;
    });
    return { status, appendSector: status === VIRTIO_BLK_S_OK ? appendSector : undefined };
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
