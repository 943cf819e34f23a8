/**
 * The block device's structures and constants under the spec's names (spec 5.2 "Block Device").
 * All multi-byte fields are little-endian.
 */

// Feature bits (spec 5.2.3).
/** Maximum size of any single segment is in `size_max`. */
export const VIRTIO_BLK_F_SIZE_MAX = 1;
/** Maximum number of segments in a request is in `seg_max`. */
export const VIRTIO_BLK_F_SEG_MAX = 2;
/** Disk-style geometry specified in `geometry`. */
export const VIRTIO_BLK_F_GEOMETRY = 4;
/** Device is read-only. */
export const VIRTIO_BLK_F_RO = 5;
/** Block size of disk is in `blk_size`. */
export const VIRTIO_BLK_F_BLK_SIZE = 6;
/** Cache flush command support. */
export const VIRTIO_BLK_F_FLUSH = 9;
/** Device exports information on optimal I/O alignment. */
export const VIRTIO_BLK_F_TOPOLOGY = 10;
/** Device can toggle its cache between writeback and writethrough modes. */
export const VIRTIO_BLK_F_CONFIG_WCE = 11;
/** Device supports multiqueue. */
export const VIRTIO_BLK_F_MQ = 12;
/** Device can support discard command. */
export const VIRTIO_BLK_F_DISCARD = 13;
/** Device can support write zeroes command. */
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;
/** Device supports providing storage lifetime information. */
export const VIRTIO_BLK_F_LIFETIME = 15;
/** Device supports secure erase command. */
export const VIRTIO_BLK_F_SECURE_ERASE = 16;
/** Device is a zoned block device (offered with the `zoned` device option). */
export const VIRTIO_BLK_F_ZONED = 17;

// Request types (spec 5.2.6).
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_GET_LIFETIME = 10;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;
export const VIRTIO_BLK_T_SECURE_ERASE = 14;
export const VIRTIO_BLK_T_ZONE_APPEND = 15;
export const VIRTIO_BLK_T_ZONE_REPORT = 16;
export const VIRTIO_BLK_T_ZONE_OPEN = 18;
export const VIRTIO_BLK_T_ZONE_CLOSE = 20;
export const VIRTIO_BLK_T_ZONE_FINISH = 22;
export const VIRTIO_BLK_T_ZONE_RESET = 24;
export const VIRTIO_BLK_T_ZONE_RESET_ALL = 26;

// Request status (spec 5.2.6).
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
// Zoned block device statuses (VIRTIO_BLK_F_ZONED negotiated).
export const VIRTIO_BLK_S_ZONE_INVALID_CMD = 3;
export const VIRTIO_BLK_S_ZONE_UNALIGNED_WP = 4;
export const VIRTIO_BLK_S_ZONE_OPEN_RESOURCE = 5;
export const VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE = 6;

// Zone models (`zoned.model`).
export const VIRTIO_BLK_Z_NONE = 0;
export const VIRTIO_BLK_Z_HM = 1;
export const VIRTIO_BLK_Z_HA = 2;

// Zone types (`z_type` of struct virtio_blk_zone_descriptor).
export const VIRTIO_BLK_ZT_CONV = 1;
export const VIRTIO_BLK_ZT_SWR = 2;
export const VIRTIO_BLK_ZT_SWP = 3;

// Zone states (`z_state`).
export const VIRTIO_BLK_ZS_NOT_WP = 0;
export const VIRTIO_BLK_ZS_EMPTY = 1;
export const VIRTIO_BLK_ZS_IOPEN = 2;
export const VIRTIO_BLK_ZS_EOPEN = 3;
export const VIRTIO_BLK_ZS_CLOSED = 4;
export const VIRTIO_BLK_ZS_RDONLY = 13;
export const VIRTIO_BLK_ZS_FULL = 14;
export const VIRTIO_BLK_ZS_OFFLINE = 15;

/** Size of the header of struct virtio_blk_zone_report (nr_zones, reserved), in bytes. */
export const VIRTIO_BLK_ZONE_REPORT_HEADER_SIZE = 64;
/** Size of struct virtio_blk_zone_descriptor, in bytes. */
export const VIRTIO_BLK_ZONE_DESCRIPTOR_SIZE = 64;
/** Size of `append_sector` of struct virtio_blk_req_za, in bytes. */
export const VIRTIO_BLK_APPEND_SECTOR_SIZE = 8;

/** `flags.unmap` of struct virtio_blk_discard_write_zeroes. */
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

// pre_eol_info values of struct virtio_blk_lifetime.
export const VIRTIO_BLK_PRE_EOL_INFO_UNDEFINED = 0;
export const VIRTIO_BLK_PRE_EOL_INFO_NORMAL = 1;
export const VIRTIO_BLK_PRE_EOL_INFO_WARNING = 2;
export const VIRTIO_BLK_PRE_EOL_INFO_URGENT = 3;

/** The protocol's sector: offsets and lengths are always in 512-byte units, whatever `blk_size` says. */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** Size of the header of struct virtio_blk_req (type, reserved, sector), in bytes. */
export const VIRTIO_BLK_REQ_HEADER_SIZE = 16;
/** Size of struct virtio_blk_discard_write_zeroes, in bytes. */
export const VIRTIO_BLK_DISCARD_SEGMENT_SIZE = 16;
/** Length of the device ID string of VIRTIO_BLK_T_GET_ID, in bytes (NUL-padded ASCII). */
export const VIRTIO_BLK_ID_BYTES = 20;
/** Size of struct virtio_blk_lifetime, in bytes. */
export const VIRTIO_BLK_LIFETIME_SIZE = 6;

/** struct virtio_blk_lifetime (spec 5.2.6): eMMC/UFS wear figures (JESD84-B50). */
export interface BlkLifetime {
  /** VIRTIO_BLK_PRE_EOL_INFO_* (0..3). */
  readonly preEolInfo: number;
  /** SLC wear in 10% steps, 0 = undefined, 11 = exceeded (0..11). */
  readonly deviceLifetimeEstTypA: number;
  /** MLC wear in 10% steps (0..11). */
  readonly deviceLifetimeEstTypB: number;
}

/** Whether every field of `l` holds a value the spec defines (no reserved values, [blk.dev.23]). */
export function isValidLifetime(l: BlkLifetime): boolean {
  const ok = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;
  return ok(l.preEolInfo, 3) && ok(l.deviceLifetimeEstTypA, 11) && ok(l.deviceLifetimeEstTypB, 11);
}
