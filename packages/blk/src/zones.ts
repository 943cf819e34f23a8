/**
 * The zoned block device model (spec 5.2.6 with VIRTIO_BLK_F_ZONED): zone types, states, write
 * pointers and the open/active resource counters, the zone state machine driven by writes,
 * appends and the zone management requests, and the zone report. Zone state is storage state:
 * it survives device resets. Sectors of a sequential zone past the data written since its
 * last reset read as zeroes (the spec's unwritten data, [blk.dev.42] [blk.dev.43]).
 */
import {
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE,
  VIRTIO_BLK_S_ZONE_INVALID_CMD,
  VIRTIO_BLK_S_ZONE_OPEN_RESOURCE,
  VIRTIO_BLK_S_ZONE_UNALIGNED_WP,
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_Z_HA,
  VIRTIO_BLK_Z_HM,
  VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE,
  VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE,
  VIRTIO_BLK_ZS_CLOSED,
  VIRTIO_BLK_ZS_EMPTY,
  VIRTIO_BLK_ZS_EOPEN,
  VIRTIO_BLK_ZS_FULL,
  VIRTIO_BLK_ZS_IOPEN,
  VIRTIO_BLK_ZS_NOT_WP,
  VIRTIO_BLK_ZS_OFFLINE,
  VIRTIO_BLK_ZS_RDONLY,
  VIRTIO_BLK_ZT_CONV,
  VIRTIO_BLK_ZT_SWP,
  VIRTIO_BLK_ZT_SWR,
} from './protocol.js';

/** A zoned device's layout and limits (the `zoned` device option). */
export interface BlkZonedOptions {
  /**
   * 'host-managed' (VIRTIO_BLK_Z_HM: sequential-write-required zones; a driver must accept
   * VIRTIO_BLK_F_ZONED) or 'host-aware' (VIRTIO_BLK_Z_HA: sequential-write-preferred zones; a
   * driver that refuses VIRTIO_BLK_F_ZONED gets a plain disk).
   */
  readonly model: 'host-managed' | 'host-aware';
  /** `zone_sectors`: 512-byte sectors per zone (the last zone may be smaller), 1..2^32-1. */
  readonly zoneSectors: number;
  /** Writable sectors of each sequential zone (`z_cap`), 1..zoneSectors; default zoneSectors. */
  readonly zoneCapacity?: number;
  /** Conventional zones at the start of the disk (default 0). */
  readonly conventionalZones?: number;
  /** `max_open_zones` (0, the default: no limit). */
  readonly maxOpenZones?: number;
  /** `max_active_zones` (0, the default: no limit). */
  readonly maxActiveZones?: number;
  /** `max_append_sectors` (default zoneSectors for host-managed; 0, no ZONE_APPEND, for host-aware). */
  readonly maxAppendSectors?: number;
  /** `write_granularity` in bytes, a multiple of 512 (default the block size). */
  readonly writeGranularity?: number;
}

/** struct virtio_blk_zoned_characteristics as offered. */
export interface BlkZonedCharacteristics {
  readonly zoneSectors: number;
  readonly maxOpenZones: number;
  readonly maxActiveZones: number;
  readonly maxAppendSectors: number;
  /** Bytes. */
  readonly writeGranularity: number;
  /** VIRTIO_BLK_Z_HM or VIRTIO_BLK_Z_HA. */
  readonly model: number;
}

const u32 = (v: number, what: string, min = 0): number => {
  if (!Number.isInteger(v) || v < min || v > 0xffffffff) throw new RangeError(`blk: zoned.${what} ${v} outside ${min}..2^32-1`);
  return v;
};

/** @throws RangeError for options outside their ranges */
export function resolveZoned(z: BlkZonedOptions, blkSize: number): BlkZonedCharacteristics {
  if (z.model !== 'host-managed' && z.model !== 'host-aware') throw new RangeError(`blk: zoned.model ${String(z.model)}`);
  const hm = z.model === 'host-managed';
  const zoneSectors = u32(z.zoneSectors, 'zoneSectors', 1);
  const writeGranularity = u32(z.writeGranularity ?? blkSize, 'writeGranularity', VIRTIO_BLK_SECTOR_SIZE);
  if (writeGranularity % VIRTIO_BLK_SECTOR_SIZE !== 0 || (zoneSectors * VIRTIO_BLK_SECTOR_SIZE) % writeGranularity !== 0) {
    throw new RangeError(`blk: zoned.writeGranularity ${writeGranularity} must be a multiple of 512 dividing the zone size`);
  }
  return {
    zoneSectors,
    maxOpenZones: u32(z.maxOpenZones ?? 0, 'maxOpenZones'),
    maxActiveZones: u32(z.maxActiveZones ?? 0, 'maxActiveZones'),
    maxAppendSectors: u32(z.maxAppendSectors ?? (hm ? zoneSectors : 0), 'maxAppendSectors'),
    writeGranularity,
    model: hm ? VIRTIO_BLK_Z_HM : VIRTIO_BLK_Z_HA,
  };
}

const opens = (s: number) => s === VIRTIO_BLK_ZS_IOPEN || s === VIRTIO_BLK_ZS_EOPEN;
const actives = (s: number) => opens(s) || s === VIRTIO_BLK_ZS_CLOSED;

/** The zones of one disk. Every method takes guest-controlled sectors and answers with a status. */
export class ZoneTable {
  readonly nrZones: number;
  readonly #capacity: number;
  readonly #c: BlkZonedCharacteristics;
  readonly #zoneCap: number;
  readonly #type: Uint8Array;
  readonly #state: Uint8Array;
  /** Write pointers in sectors. */
  readonly #wp: Float64Array;
  /** End of the data written since the zone's last reset, in sectors (the write pointer, except after a finish). */
  readonly #dataEnd: Float64Array;
  #open = 0;
  #active = 0;

  /** @param capacity sectors @throws RangeError for a zone capacity or conventional zone count out of range */
  constructor(capacity: number, c: BlkZonedCharacteristics, opts: BlkZonedOptions) {
    this.#capacity = capacity;
    this.#c = c;
    this.nrZones = Math.ceil(capacity / c.zoneSectors);
    this.#zoneCap = opts.zoneCapacity ?? c.zoneSectors;
    if (!Number.isInteger(this.#zoneCap) || this.#zoneCap < 1 || this.#zoneCap > c.zoneSectors) throw new RangeError(`blk: zoned.zoneCapacity ${this.#zoneCap} outside 1..zoneSectors`);
    const conv = opts.conventionalZones ?? 0;
    if (!Number.isInteger(conv) || conv < 0 || conv > this.nrZones) throw new RangeError(`blk: zoned.conventionalZones ${conv} outside 0..${this.nrZones}`);
    const seq = c.model === VIRTIO_BLK_Z_HM ? VIRTIO_BLK_ZT_SWR : VIRTIO_BLK_ZT_SWP;
    this.#type = new Uint8Array(this.nrZones).fill(seq).fill(VIRTIO_BLK_ZT_CONV, 0, conv);
    this.#state = new Uint8Array(this.nrZones).fill(VIRTIO_BLK_ZS_EMPTY).fill(VIRTIO_BLK_ZS_NOT_WP, 0, conv);
    this.#wp = new Float64Array(this.nrZones);
    this.#dataEnd = new Float64Array(this.nrZones);
    for (let i = 0; i < this.nrZones; i++) this.#wp[i] = this.#dataEnd[i] = this.#start(i);
  }

  /**
   * What a device does on a media failure: the sequential zone starting at `sector` becomes
   * read-only (VIRTIO_BLK_ZS_RDONLY) or offline (VIRTIO_BLK_ZS_OFFLINE), for good.
   * @throws RangeError for a sector that starts no sequential zone, or an offline zone made read-only
   */
  fail(sector: number, state: typeof VIRTIO_BLK_ZS_RDONLY | typeof VIRTIO_BLK_ZS_OFFLINE): void {
    const i = this.#zoneAt(sector);
    if (i < 0 || this.#type[i] === VIRTIO_BLK_ZT_CONV) throw new RangeError(`blk: sector ${sector} starts no sequential zone`);
    if (this.#state[i] === VIRTIO_BLK_ZS_OFFLINE && state !== VIRTIO_BLK_ZS_OFFLINE) throw new RangeError('blk: an offline zone stays offline');
    this.#set(i, state);
  }

  /**
   * Calls `zero(first, count)` for each run of sectors in `[sector, sector + count)` that a
   * sequential zone holds as unwritten data (from the end of its data to its end).
   */
  forUnwritten(sector: number, count: number, zero: (first: number, count: number) => void): void {
    const zs = this.#c.zoneSectors;
    const end = sector + count;
    for (let i = Math.floor(sector / zs); i < this.nrZones && this.#start(i) < end; i++) {
      if (this.#type[i] === VIRTIO_BLK_ZT_CONV) continue;
      const from = Math.max(sector, this.#dataEnd[i]);
      const to = Math.min(end, this.#start(i) + zs);
      if (to > from) zero(from, to - from);
    }
  }

  /** Zones open (implicitly or explicitly) and active (open or closed), for tests and metrics. */
  get counters(): { readonly open: number; readonly active: number } {
    return { open: this.#open, active: this.#active };
  }

  #start(i: number): number {
    return i * this.#c.zoneSectors;
  }

  /** Writable sectors of zone `i` when empty (`z_cap`); the last zone may be shorter. */
  #cap(i: number): number {
    const len = Math.min(this.#c.zoneSectors, this.#capacity - this.#start(i));
    return this.#type[i] === VIRTIO_BLK_ZT_CONV ? len : Math.min(this.#zoneCap, len);
  }

  /** The zone whose start is `sector`, or -1 (not a zone start, or beyond the disk). */
  #zoneAt(sector: number): number {
    if (!(sector >= 0 && sector < this.#capacity) || sector % this.#c.zoneSectors !== 0) return -1;
    return sector / this.#c.zoneSectors;
  }

  #set(i: number, s: number): void {
    const was = this.#state[i];
    this.#open += (opens(s) ? 1 : 0) - (opens(was) ? 1 : 0);
    this.#active += (actives(s) ? 1 : 0) - (actives(was) ? 1 : 0);
    this.#state[i] = s;
  }

  /**
   * Resources for zone `i` to become open: OK, or ACTIVE_RESOURCE / OPEN_RESOURCE (active wins
   * when both are short). At the open limit an implicitly open zone is closed to make room.
   */
  #admit(i: number): number {
    const from = this.#state[i];
    if (opens(from)) return VIRTIO_BLK_S_OK;
    const { maxOpenZones, maxActiveZones } = this.#c;
    if (from === VIRTIO_BLK_ZS_EMPTY && maxActiveZones > 0 && this.#active >= maxActiveZones) return VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE;
    if (maxOpenZones > 0 && this.#open >= maxOpenZones) {
      // [blk.dev.39] close an implicitly open zone (it stays active) to make room.
      const victim = this.#state.indexOf(VIRTIO_BLK_ZS_IOPEN);
      if (victim < 0) return VIRTIO_BLK_S_ZONE_OPEN_RESOURCE;
      this.#set(victim, VIRTIO_BLK_ZS_CLOSED);
    }
    return VIRTIO_BLK_S_OK;
  }

  /**
   * Checks a read of `count` sectors at `sector` (already within the disk): ZONE_INVALID_CMD
   * when it spans zones and one of them is sequential-write-required ([blk.dev.37]).
   */
  checkRead(sector: number, count: number): number {
    if (count === 0) return VIRTIO_BLK_S_OK;
    const first = Math.floor(sector / this.#c.zoneSectors);
    const last = Math.floor((sector + count - 1) / this.#c.zoneSectors);
    if (first !== last && this.#type[last] === VIRTIO_BLK_ZT_SWR) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    // [blk.dev.41] nothing is read from an offline zone.
    for (let i = first; i <= last; i++) if (this.#state[i] === VIRTIO_BLK_ZS_OFFLINE) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    return VIRTIO_BLK_S_OK;
  }

  /**
   * A write (VIRTIO_BLK_T_OUT, `sector` within the disk) or append (`sector` as the driver
   * gave it) of `count` sectors: checks it, moves the zone's state and write pointer.
   * @returns the sector the data goes to (>= 0), or minus the failure status
   */
  write(sector: number, count: number, append: boolean): number {
    const c = this.#c;
    if (append && count > c.maxAppendSectors) return -(c.maxAppendSectors === 0 ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_ZONE_INVALID_CMD); // [blk.dev.35] [blk.dev.36]
    const i = append ? this.#zoneAt(sector) : Math.floor(sector / c.zoneSectors);
    if (i < 0) return -VIRTIO_BLK_S_ZONE_INVALID_CMD; // [blk.dev.32]
    const type = this.#type[i];
    if (append && type !== VIRTIO_BLK_ZT_SWR) return -VIRTIO_BLK_S_ZONE_INVALID_CMD; // [blk.dev.26]
    if (count === 0) return append ? this.#wp[i] : sector;
    const last = Math.floor((sector + count - 1) / c.zoneSectors);
    if (!append && last !== i) return this.#type[last] === VIRTIO_BLK_ZT_CONV ? sector : -VIRTIO_BLK_S_ZONE_INVALID_CMD; // [blk.dev.37]
    if (type === VIRTIO_BLK_ZT_CONV) return sector;
    const state = this.#state[i];
    // [blk.dev.40] [blk.dev.41] full, read-only and offline zones take no writes.
    if (state !== VIRTIO_BLK_ZS_EMPTY && state !== VIRTIO_BLK_ZS_CLOSED && !opens(state)) return -VIRTIO_BLK_S_ZONE_INVALID_CMD;
    const wp = this.#wp[i];
    const at = append ? wp : sector;
    if (type === VIRTIO_BLK_ZT_SWR) {
      // [blk.dev.38] at the write pointer, ending on the write granularity.
      if (at !== wp || ((at + count) * VIRTIO_BLK_SECTOR_SIZE) % c.writeGranularity !== 0) return -VIRTIO_BLK_S_ZONE_UNALIGNED_WP;
    }
    const end = this.#start(i) + this.#cap(i);
    if (at + count > end) return -VIRTIO_BLK_S_ZONE_INVALID_CMD; // [blk.dev.33]
    // [blk.dev.31] implicitly open before writing, within the resource limits.
    const admitted = this.#admit(i);
    if (admitted !== VIRTIO_BLK_S_OK) return -admitted;
    this.#wp[i] = Math.max(wp, at + count);
    this.#dataEnd[i] = Math.max(this.#dataEnd[i], at + count);
    this.#set(i, this.#wp[i] === end ? VIRTIO_BLK_ZS_FULL : state === VIRTIO_BLK_ZS_EOPEN ? VIRTIO_BLK_ZS_EOPEN : VIRTIO_BLK_ZS_IOPEN);
    return at;
  }

  /** VIRTIO_BLK_T_ZONE_OPEN of the zone starting at `sector` ([blk.dev.25] [blk.dev.27]). */
  open(sector: number): number {
    const i = this.#zoneAt(sector);
    if (i < 0 || this.#type[i] === VIRTIO_BLK_ZT_CONV) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    const s = this.#state[i];
    if (s !== VIRTIO_BLK_ZS_EMPTY && s !== VIRTIO_BLK_ZS_CLOSED && !opens(s)) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    const admitted = this.#admit(i);
    if (admitted === VIRTIO_BLK_S_OK) this.#set(i, VIRTIO_BLK_ZS_EOPEN);
    return admitted;
  }

  /** VIRTIO_BLK_T_ZONE_CLOSE ([blk.dev.28]): an open zone closes (or empties, nothing written); a closed one stays. */
  close(sector: number): number {
    const i = this.#zoneAt(sector);
    if (i < 0 || this.#type[i] === VIRTIO_BLK_ZT_CONV) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    const s = this.#state[i];
    if (s === VIRTIO_BLK_ZS_CLOSED) return VIRTIO_BLK_S_OK;
    if (!opens(s)) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    this.#set(i, this.#wp[i] === this.#start(i) ? VIRTIO_BLK_ZS_EMPTY : VIRTIO_BLK_ZS_CLOSED);
    return VIRTIO_BLK_S_OK;
  }

  /** VIRTIO_BLK_T_ZONE_FINISH ([blk.dev.29]): the zone becomes full. */
  finish(sector: number): number {
    const i = this.#zoneAt(sector);
    if (i < 0 || this.#type[i] === VIRTIO_BLK_ZT_CONV) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    const s = this.#state[i];
    if (s === VIRTIO_BLK_ZS_FULL) return VIRTIO_BLK_S_OK;
    if (s !== VIRTIO_BLK_ZS_EMPTY && s !== VIRTIO_BLK_ZS_CLOSED && !opens(s)) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    this.#wp[i] = this.#start(i) + this.#cap(i);
    this.#set(i, VIRTIO_BLK_ZS_FULL);
    return VIRTIO_BLK_S_OK;
  }

  /** VIRTIO_BLK_T_ZONE_RESET ([blk.dev.30]): the zone becomes empty, its write pointer at its start. */
  reset(sector: number): number {
    const i = this.#zoneAt(sector);
    if (i < 0 || !this.#resettable(i)) return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    this.#empty(i);
    return VIRTIO_BLK_S_OK;
  }

  /** VIRTIO_BLK_T_ZONE_RESET_ALL: every sequential zone (not read-only or offline) becomes empty. */
  resetAll(): number {
    for (let i = 0; i < this.nrZones; i++) if (this.#resettable(i)) this.#empty(i);
    return VIRTIO_BLK_S_OK;
  }

  #resettable(i: number): boolean {
    const s = this.#state[i];
    return this.#type[i] !== VIRTIO_BLK_ZT_CONV && s !== VIRTIO_BLK_ZS_RDONLY && s !== VIRTIO_BLK_ZS_OFFLINE;
  }

  #empty(i: number): void {
    this.#wp[i] = this.#dataEnd[i] = this.#start(i);
    this.#set(i, VIRTIO_BLK_ZS_EMPTY);
  }

  /**
   * The struct virtio_blk_zone_report for a buffer of `bufLen` bytes from the zone holding
   * `sector`: the header and as many whole descriptors as fit (the rest of the buffer is not
   * part of it). @returns the bytes, or IOERR for a sector beyond the disk or a buffer shorter
   * than the header
   */
  report(sector: number, bufLen: number): Uint8Array | number {
    if (!(sector >= 0 && sector < this.#capacity) || bufLen < VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE) return VIRTIO_BLK_S_IOERR;
    const first = Math.floor(sector / this.#c.zoneSectors);
    const n = Math.min(this.nrZones - first, Math.floor((bufLen - VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE) / VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE));
    const out = new Uint8Array(VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE + n * VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE);
    const dv = new DataView(out.buffer);
    dv.setBigUint64(0, BigInt(n), true);
    for (let k = 0; k < n; k++) {
      const i = first + k;
      const o = VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE + k * VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE;
      const s = this.#state[i];
      // z_wp is undefined for conventional, full, read-only and offline zones: all ones.
      const wp = s === VIRTIO_BLK_ZS_NOT_WP || s >= VIRTIO_BLK_ZS_RDONLY ? 0xffffffffffffffffn : BigInt(this.#wp[i]);
      dv.setBigUint64(o, BigInt(this.#cap(i)), true);
      dv.setBigUint64(o + 8, BigInt(this.#start(i)), true);
      dv.setBigUint64(o + 16, wp, true);
      out[o + 24] = this.#type[i];
      out[o + 25] = s;
    }
    return out;
  }
}

