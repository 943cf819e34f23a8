/**
 * The traditional memory balloon's constants and structures (spec 5.5), under the spec's names.
 */

/** Device ID of the traditional memory balloon (spec 5.5.1). */
export const VIRTIO_BALLOON_DEVICE_ID = 5;

/** Virtqueue indices (spec 5.5.2). The index of a queue is fixed whether or not the queues before it exist. */
export const VIRTIO_BALLOON_INFLATEQ = 0;
export const VIRTIO_BALLOON_DEFLATEQ = 1;
/** Exists only with VIRTIO_BALLOON_F_STATS_VQ. */
export const VIRTIO_BALLOON_STATSQ = 2;
/** Exists only with VIRTIO_BALLOON_F_FREE_PAGE_HINT. */
export const VIRTIO_BALLOON_FREE_PAGE_VQ = 3;
/** Exists only with VIRTIO_BALLOON_F_PAGE_REPORTING. */
export const VIRTIO_BALLOON_REPORTING_VQ = 4;
export const VIRTIO_BALLOON_NUM_QUEUES = 5;

/** Feature bits (spec 5.5.3), as bit numbers. */
export const VIRTIO_BALLOON_F_MUST_TELL_HOST = 0;
export const VIRTIO_BALLOON_F_STATS_VQ = 1;
export const VIRTIO_BALLOON_F_DEFLATE_ON_OOM = 2;
export const VIRTIO_BALLOON_F_FREE_PAGE_HINT = 3;
export const VIRTIO_BALLOON_F_PAGE_POISON = 4;
export const VIRTIO_BALLOON_F_PAGE_REPORTING = 5;

/** Page frame numbers in inflate/deflate arrays are guest-physical addresses divided by 4096 (spec 5.5.6). */
export const VIRTIO_BALLOON_PFN_SHIFT = 12;
/** 4096 bytes: the balloon's page unit, independent of the guest page size. */
export const VIRTIO_BALLOON_PAGE_SIZE = 1 << VIRTIO_BALLOON_PFN_SHIFT;

/** struct virtio_balloon_config offsets (spec 5.5.4), each an le32. */
export const BALLOON_CONFIG_NUM_PAGES = 0;
export const BALLOON_CONFIG_ACTUAL = 4;
export const BALLOON_CONFIG_FREE_PAGE_HINT_CMD_ID = 8;
export const BALLOON_CONFIG_POISON_VAL = 12;
export const BALLOON_CONFIG_SIZE = 16;

/** Reserved free page hint command IDs (spec 5.5.6.4). */
export const VIRTIO_BALLOON_CMD_ID_STOP = 0;
export const VIRTIO_BALLOON_CMD_ID_DONE = 1;

/** Memory statistics tags (spec 5.5.6.3). */
export const VIRTIO_BALLOON_S_SWAP_IN = 0;
export const VIRTIO_BALLOON_S_SWAP_OUT = 1;
export const VIRTIO_BALLOON_S_MAJFLT = 2;
export const VIRTIO_BALLOON_S_MINFLT = 3;
export const VIRTIO_BALLOON_S_MEMFREE = 4;
export const VIRTIO_BALLOON_S_MEMTOT = 5;
export const VIRTIO_BALLOON_S_AVAIL = 6;
export const VIRTIO_BALLOON_S_CACHES = 7;
export const VIRTIO_BALLOON_S_HTLB_PGALLOC = 8;
export const VIRTIO_BALLOON_S_HTLB_PGFAIL = 9;
/** Number of statistics tags this implementation recognizes (0..9); others are ignored ([balloon.dev.4]). */
export const VIRTIO_BALLOON_S_NR = 10;
/** sizeof(struct virtio_balloon_stat): le16 tag + le64 val, packed. */
export const VIRTIO_BALLOON_STAT_SIZE = 10;

/** A guest-physical byte range [addr, addr + len). */
export interface PageRange {
  /** Guest-physical address, in bytes. */
  readonly addr: number;
  /** Length in bytes. */
  readonly len: number;
}

/** Memory statistics by tag (only the tags the driver supplied). Values in the spec's units (bytes or counts). */
export type BalloonStats = ReadonlyMap<number, bigint>;
