/**
 * From {@link BlkDeviceOptions} and the backend to what the device offers: its feature bits
 * and the values of struct virtio_blk_config (spec 5.2.3, 5.2.4).
 */
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
} from '@virtio/core';
import type { BlockBackend } from './backend.js';
import type { BlkConfigFields } from './config.js';
import { resolveZoned, type BlkZonedCharacteristics, type BlkZonedOptions } from './zones.js';
import {
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
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_Z_HM,
} from './protocol.js';

/** Limits of a discard-like command (DISCARD, WRITE_ZEROES, SECURE_ERASE). */
export interface BlkRangeLimits {
  /** Largest `num_sectors` of one segment, in 512-byte sectors (1..2^32-1). */
  readonly maxSectors?: number;
  /** Most segments in one request (1..2^32-1). */
  readonly maxSegments?: number;
}

export interface BlkDeviceOptions {
  readonly backend: BlockBackend;
  /** Request queues (num_queues, VIRTIO_BLK_F_MQ is offered). Default 1. */
  readonly numQueues?: number;
  /** Maximum size of every queue (descriptors). Default 256. */
  readonly queueSize?: number;
  /** Offer VIRTIO_BLK_F_RO even if the backend is writable. */
  readonly readOnly?: boolean;
  /** Device ID string for GET_ID (default: the backend's id, else empty). At most 20 ASCII bytes are used. */
  readonly id?: string;
  /** Logical block size in bytes (`blk_size`, a power of two >= 512). Default 512. */
  readonly blkSize?: number;
  /** Cache mode after reset when VIRTIO_BLK_F_CONFIG_WCE is negotiated: writeback (default true) or writethrough. */
  readonly writeback?: boolean;
  /** `seg_max`: data segments per request. Default queueSize - 2. */
  readonly segMax?: number;
  /** `size_max` in bytes: offers VIRTIO_BLK_F_SIZE_MAX when given. */
  readonly sizeMax?: number;
  /** Offers VIRTIO_BLK_F_GEOMETRY when given. */
  readonly geometry?: { readonly cylinders: number; readonly heads: number; readonly sectors: number };
  /** Offers VIRTIO_BLK_F_TOPOLOGY when given (min/opt I/O sizes in blocks). */
  readonly topology?: {
    readonly physicalBlockExp?: number;
    readonly alignmentOffset?: number;
    readonly minIoSize?: number;
    readonly optIoSize?: number;
  };
  /** VIRTIO_BLK_F_DISCARD (default on unless read-only); false to not offer it. */
  readonly discard?: boolean | BlkRangeLimits;
  /** VIRTIO_BLK_F_WRITE_ZEROES (default on unless read-only); false to not offer it. */
  readonly writeZeroes?: boolean | BlkRangeLimits;
  /** VIRTIO_BLK_F_SECURE_ERASE (default off): ranges are overwritten with zeroes, never just deallocated. */
  readonly secureErase?: boolean | BlkRangeLimits;
  /**
   * A zoned device (offers VIRTIO_BLK_F_ZONED): zone layout, model and limits. It offers no
   * SECURE_ERASE; a host-managed one no DISCARD or WRITE_ZEROES either (whatever those options say), and
   * refuses FEATURES_OK without VIRTIO_BLK_F_ZONED; a host-aware one then acts as a plain disk.
   */
  readonly zoned?: BlkZonedOptions;
  /**
   * Ring and transport feature bits to offer besides VIRTIO_F_VERSION_1. Default
   * VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_RING_PACKED | VIRTIO_F_RING_RESET.
   * Never VIRTIO_F_IN_ORDER: requests complete out of order.
   */
  readonly ringFeatures?: bigint;
}

/** Everything the device offers, resolved once. */
export interface BlkOffer {
  readonly features: bigint;
  readonly numQueues: number;
  readonly queueSize: number;
  readonly id: string;
  /** Cache mode after reset (1 writeback, 0 writethrough). */
  readonly writeback: number;
  readonly config: BlkConfigFields;
  /** The zoned characteristics when `zoned` was given. */
  readonly zoned: BlkZonedCharacteristics | undefined;
}

export const DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);
/** Default `max_*_sectors`: 4 GiB - 512 bytes per segment. */
const DEFAULT_MAX_SECTORS = 0x7fffff;
const DEFAULT_MAX_SEGMENTS = 32;

const u32 = (v: number, what: string, min = 0): number => {
  if (!Number.isInteger(v) || v < min || v > 0xffffffff) throw new RangeError(`blk: ${what} ${v} outside ${min}..2^32-1`);
  return v;
};

/** @throws RangeError for options outside the fields' ranges (a programming error, not guest input) */
export function resolveOffer(opts: BlkDeviceOptions): BlkOffer {
  const backend = opts.backend;
  const numQueues = opts.numQueues ?? 1;
  if (!Number.isInteger(numQueues) || numQueues < 1 || numQueues > 0xffff) throw new RangeError(`blk: numQueues ${numQueues} outside 1..65535`);
  const queueSize = opts.queueSize ?? 256;
  if (!Number.isInteger(queueSize) || queueSize < 2 || queueSize > 32768) throw new RangeError(`blk: queueSize ${queueSize} outside 2..32768`);
  const blkSize = opts.blkSize ?? VIRTIO_BLK_SECTOR_SIZE;
  if (!Number.isInteger(blkSize) || blkSize < VIRTIO_BLK_SECTOR_SIZE || (blkSize & (blkSize - 1)) !== 0 || blkSize > 2 ** 30) {
    throw new RangeError(`blk: blkSize ${blkSize} is not a power of two >= 512`);
  }
  if (!Number.isSafeInteger(backend.size) || backend.size < 0) throw new RangeError(`blk: backend size ${backend.size}`);
  const readOnly = backend.readOnly || opts.readOnly === true;
  const align = blkSize / VIRTIO_BLK_SECTOR_SIZE;

  let f = featureMask(VIRTIO_F_VERSION_1, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_MQ);
  f |= opts.ringFeatures ?? DEFAULT_RING_FEATURES;
  if (readOnly) f |= featureMask(VIRTIO_BLK_F_RO);
  if (opts.sizeMax !== undefined) f |= featureMask(VIRTIO_BLK_F_SIZE_MAX);
  if (opts.geometry) f |= featureMask(VIRTIO_BLK_F_GEOMETRY);
  if (opts.topology) f |= featureMask(VIRTIO_BLK_F_TOPOLOGY);
  if (backend.lifetime) f |= featureMask(VIRTIO_BLK_F_LIFETIME);
  const zoned = opts.zoned ? resolveZoned(opts.zoned, blkSize) : undefined;
  if (zoned) f |= featureMask(VIRTIO_BLK_F_ZONED);
  const hostManaged = zoned?.model === VIRTIO_BLK_Z_HM;
  const range = (o: boolean | BlkRangeLimits | undefined, dflt: boolean, bit: number, what: string) => {
    const on = !hostManaged && (o === undefined ? dflt && !readOnly : o !== false);
    if (!on) return { maxSectors: 0, maxSegments: 0 };
    f |= featureMask(bit);
    const lim = typeof o === 'object' ? o : {};
    return {
      maxSectors: u32(lim.maxSectors ?? DEFAULT_MAX_SECTORS, `${what}.maxSectors`, 1),
      maxSegments: u32(lim.maxSegments ?? DEFAULT_MAX_SEGMENTS, `${what}.maxSegments`, 1),
    };
  };
  const discard = range(opts.discard, true, VIRTIO_BLK_F_DISCARD, 'discard');
  const wz = range(opts.writeZeroes, true, VIRTIO_BLK_F_WRITE_ZEROES, 'writeZeroes');
  // A zoned device never offers SECURE_ERASE (it would have to act as a zone reset, [blk.dev.46]).
  const se = zoned ? range(false, false, VIRTIO_BLK_F_SECURE_ERASE, 'secureErase') : range(opts.secureErase, false, VIRTIO_BLK_F_SECURE_ERASE, 'secureErase');
  const topo = opts.topology ?? {};
  const geo = opts.geometry ?? { cylinders: 0, heads: 0, sectors: 0 };
  const writeback = opts.writeback === false ? 0 : 1;
  return {
    features: f,
    numQueues,
    queueSize,
    id: opts.id ?? backend.id ?? '',
    writeback,
    zoned,
    config: {
      capacity: Math.floor(backend.size / VIRTIO_BLK_SECTOR_SIZE),
      sizeMax: u32(opts.sizeMax ?? 0, 'sizeMax'),
      segMax: u32(opts.segMax ?? Math.max(1, queueSize - 2), 'segMax', 1),
      geometry: geo,
      blkSize,
      topology: {
        physicalBlockExp: topo.physicalBlockExp ?? 0,
        alignmentOffset: topo.alignmentOffset ?? 0,
        minIoSize: topo.minIoSize ?? 1,
        optIoSize: topo.optIoSize ?? 0,
      },
      writeback,
      numQueues,
      maxDiscardSectors: discard.maxSectors,
      maxDiscardSeg: discard.maxSegments,
      discardSectorAlignment: discard.maxSectors ? align : 0,
      maxWriteZeroesSectors: wz.maxSectors,
      maxWriteZeroesSeg: wz.maxSegments,
      writeZeroesMayUnmap: wz.maxSectors && backend.deallocates ? 1 : 0,
      maxSecureEraseSectors: se.maxSectors,
      maxSecureEraseSeg: se.maxSegments,
      secureEraseSectorAlignment: se.maxSectors ? align : 0,
      zoned,
    },
  };
}
