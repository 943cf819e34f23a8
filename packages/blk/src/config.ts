/**
 * struct virtio_blk_config (spec 5.2.4): byte offsets of every field and a little-endian
 * byte image of the whole structure, read and written by offset and width.
 */
import type { BlkZonedCharacteristics } from './zones.js';

/** Byte offsets of the fields of struct virtio_blk_config. */
export const BlkConfigOffset = {
  capacity: 0,
  size_max: 8,
  seg_max: 12,
  geometry_cylinders: 16,
  geometry_heads: 18,
  geometry_sectors: 19,
  blk_size: 20,
  topology_physical_block_exp: 24,
  topology_alignment_offset: 25,
  topology_min_io_size: 26,
  topology_opt_io_size: 28,
  writeback: 32,
  unused0: 33,
  num_queues: 34,
  max_discard_sectors: 36,
  max_discard_seg: 40,
  discard_sector_alignment: 44,
  max_write_zeroes_sectors: 48,
  max_write_zeroes_seg: 52,
  write_zeroes_may_unmap: 56,
  unused1: 57,
  max_secure_erase_sectors: 60,
  max_secure_erase_seg: 64,
  secure_erase_sector_alignment: 68,
  zoned_zone_sectors: 72,
  zoned_max_open_zones: 76,
  zoned_max_active_zones: 80,
  zoned_max_append_sectors: 84,
  zoned_write_granularity: 88,
  zoned_model: 92,
  zoned_unused2: 93,
} as const;

/** Size of struct virtio_blk_config including the zoned characteristics, in bytes. */
export const VIRTIO_BLK_CONFIG_SIZE = 96;

/** The values of struct virtio_blk_config (all counts as the spec's units: sectors are 512 bytes). */
export interface BlkConfigFields {
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  readonly sizeMax: number;
  readonly segMax: number;
  readonly geometry: { readonly cylinders: number; readonly heads: number; readonly sectors: number };
  /** Block size in bytes. */
  readonly blkSize: number;
  readonly topology: {
    readonly physicalBlockExp: number;
    readonly alignmentOffset: number;
    readonly minIoSize: number;
    readonly optIoSize: number;
  };
  /** 1 = writeback cache, 0 = writethrough. */
  readonly writeback: number;
  readonly numQueues: number;
  readonly maxDiscardSectors: number;
  readonly maxDiscardSeg: number;
  readonly discardSectorAlignment: number;
  readonly maxWriteZeroesSectors: number;
  readonly maxWriteZeroesSeg: number;
  readonly writeZeroesMayUnmap: number;
  readonly maxSecureEraseSectors: number;
  readonly maxSecureEraseSeg: number;
  readonly secureEraseSectorAlignment: number;
  /** struct virtio_blk_zoned_characteristics (all 0 when absent). */
  readonly zoned?: BlkZonedCharacteristics;
}

/**
 * The configuration space image. Padding (`unused0`, `unused1`, `unused2`) stays 0, and the
 * zoned characteristics too unless the device is zoned.
 */
export class BlkConfigSpace {
  readonly bytes = new Uint8Array(VIRTIO_BLK_CONFIG_SIZE);
  readonly #dv = new DataView(this.bytes.buffer);

  /** Writes every field from `f` (padding, and zoned fields without `f.zoned`, are left 0). */
  load(f: BlkConfigFields): void {
    const dv = this.#dv;
    const O = BlkConfigOffset;
    this.bytes.fill(0);
    this.setCapacity(f.capacity);
    dv.setUint32(O.size_max, f.sizeMax, true);
    dv.setUint32(O.seg_max, f.segMax, true);
    dv.setUint16(O.geometry_cylinders, f.geometry.cylinders, true);
    dv.setUint8(O.geometry_heads, f.geometry.heads);
    dv.setUint8(O.geometry_sectors, f.geometry.sectors);
    dv.setUint32(O.blk_size, f.blkSize, true);
    dv.setUint8(O.topology_physical_block_exp, f.topology.physicalBlockExp);
    dv.setUint8(O.topology_alignment_offset, f.topology.alignmentOffset);
    dv.setUint16(O.topology_min_io_size, f.topology.minIoSize, true);
    dv.setUint32(O.topology_opt_io_size, f.topology.optIoSize, true);
    dv.setUint8(O.writeback, f.writeback);
    dv.setUint16(O.num_queues, f.numQueues, true);
    dv.setUint32(O.max_discard_sectors, f.maxDiscardSectors, true);
    dv.setUint32(O.max_discard_seg, f.maxDiscardSeg, true);
    dv.setUint32(O.discard_sector_alignment, f.discardSectorAlignment, true);
    dv.setUint32(O.max_write_zeroes_sectors, f.maxWriteZeroesSectors, true);
    dv.setUint32(O.max_write_zeroes_seg, f.maxWriteZeroesSeg, true);
    dv.setUint8(O.write_zeroes_may_unmap, f.writeZeroesMayUnmap);
    dv.setUint32(O.max_secure_erase_sectors, f.maxSecureEraseSectors, true);
    dv.setUint32(O.max_secure_erase_seg, f.maxSecureEraseSeg, true);
    dv.setUint32(O.secure_erase_sector_alignment, f.secureEraseSectorAlignment, true);
    this.setZoned(f.zoned);
  }

  /** Writes struct virtio_blk_zoned_characteristics, or zeroes it ([blk.dev.6]: ZONED refused by the driver). */
  setZoned(z: BlkZonedCharacteristics | undefined): void {
    const dv = this.#dv;
    const O = BlkConfigOffset;
    dv.setUint32(O.zoned_zone_sectors, z?.zoneSectors ?? 0, true);
    dv.setUint32(O.zoned_max_open_zones, z?.maxOpenZones ?? 0, true);
    dv.setUint32(O.zoned_max_active_zones, z?.maxActiveZones ?? 0, true);
    dv.setUint32(O.zoned_max_append_sectors, z?.maxAppendSectors ?? 0, true);
    dv.setUint32(O.zoned_write_granularity, z?.writeGranularity ?? 0, true);
    dv.setUint8(O.zoned_model, z?.model ?? 0);
  }

  /** Sets `capacity` (512-byte sectors, < 2^53). */
  setCapacity(sectors: number): void {
    this.#dv.setUint32(BlkConfigOffset.capacity, sectors % 2 ** 32, true);
    this.#dv.setUint32(BlkConfigOffset.capacity + 4, Math.floor(sectors / 2 ** 32), true);
  }

  get writeback(): number {
    return this.bytes[BlkConfigOffset.writeback];
  }
  set writeback(v: number) {
    this.bytes[BlkConfigOffset.writeback] = v;
  }

  /** Reads `width` bytes at `offset` (offset + width <= {@link VIRTIO_BLK_CONFIG_SIZE}), little-endian. */
  read(offset: number, width: 1 | 2 | 4): number {
    if (width === 1) return this.#dv.getUint8(offset);
    if (width === 2) return this.#dv.getUint16(offset, true);
    return this.#dv.getUint32(offset, true);
  }
}
