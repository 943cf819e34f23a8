import { VirtqueueError } from '../errors.js';

/** VIRTQ_DESC_F_NEXT: the buffer continues via the `next` field (spec 2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
/** VIRTQ_DESC_F_WRITE: the buffer is device-writable (otherwise device-readable). */
export const VIRTQ_DESC_F_WRITE = 2;
/** VIRTQ_DESC_F_INDIRECT: the buffer holds a table of descriptors (spec 2.7.5.3). */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** VIRTQ_AVAIL_F_NO_INTERRUPT: available ring `flags` bit asking for no used buffer notifications. */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** VIRTQ_USED_F_NO_NOTIFY: used ring `flags` bit asking for no available buffer notifications. */
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** The largest split queue size (spec 2.7). */
export const SPLIT_MAX_QUEUE_SIZE = 32768;
/** Size in bytes of one `struct virtq_desc`. */
export const DESC_SIZE = 16;

/** Sizes (bytes) and minimum alignments of the three parts of a split virtqueue (spec 2.7 table). */
export interface SplitLayout {
  readonly size: number;
  /** Descriptor table: 16 * size bytes, aligned to 16. */
  readonly descTableBytes: number;
  readonly descTableAlign: 16;
  /** Available ring (flags, idx, ring[size], used_event): 6 + 2 * size bytes, aligned to 2. */
  readonly availRingBytes: number;
  readonly availRingAlign: 2;
  /** Used ring (flags, idx, ring[size] of {id, len}, avail_event): 6 + 8 * size bytes, aligned to 4. */
  readonly usedRingBytes: number;
  readonly usedRingAlign: 4;
}

/** True for a valid split queue size: a power of two from 1 to 32768. */
export function isValidSplitQueueSize(size: number): boolean {
  return Number.isInteger(size) && size >= 1 && size <= SPLIT_MAX_QUEUE_SIZE && (size & (size - 1)) === 0;
}

/**
 * The split virtqueue layout for a queue size (spec 2.7).
 * @throws VirtqueueError 'bad-queue-config' when size is not a power of two up to 32768.
 */
export function splitLayout(size: number): SplitLayout {
  if (!isValidSplitQueueSize(size)) {
    throw new VirtqueueError('bad-queue-config', `split queue size ${size} is not a power of two from 1 to 32768`);
  }
  return {
    size,
    descTableBytes: DESC_SIZE * size,
    descTableAlign: 16,
    availRingBytes: 6 + 2 * size,
    availRingAlign: 2,
    usedRingBytes: 6 + 8 * size,
    usedRingAlign: 4,
  };
}

/** Where the parts of a legacy split virtqueue lie in its one contiguous block (spec 2.7.2). */
export interface LegacySplitLayout {
  /** Offset of the available ring from the queue's start (the descriptor table is at 0), in bytes. */
  readonly availOffset: number;
  /** Offset of the used ring: the available ring's end rounded up to Queue Align. */
  readonly usedOffset: number;
  /** Total bytes to allocate (the spec's virtq_size()). */
  readonly totalBytes: number;
}

/**
 * The legacy interface layout: descriptor table, available ring, padding to `queueAlign`,
 * used ring, all in one block (spec 2.7.2, "Legacy Interfaces: A Note on Virtqueue Layout").
 * @param queueAlign Queue Align in bytes, a power of two (4096 for legacy PCI).
 * @throws VirtqueueError 'bad-queue-config' for a bad size or alignment.
 */
export function legacySplitLayout(size: number, queueAlign = 4096): LegacySplitLayout {
  const l = splitLayout(size);
  if (!Number.isInteger(queueAlign) || queueAlign < 1 || (queueAlign & (queueAlign - 1)) !== 0) {
    throw new VirtqueueError('bad-queue-config', `queue align ${queueAlign} is not a power of two`);
  }
  const alignUp = (x: number) => Math.ceil(x / queueAlign) * queueAlign;
  const usedOffset = alignUp(l.descTableBytes + l.availRingBytes);
  return { availOffset: l.descTableBytes, usedOffset, totalBytes: usedOffset + alignUp(l.usedRingBytes) };
}
