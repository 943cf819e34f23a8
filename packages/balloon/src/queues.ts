/**
 * Balloon queue numbering as drivers and devices use it in practice (Linux's virtio_balloon and
 * QEMU): inflateq 0 and deflateq 1, then statsq, free_page_vq and reporting_vq in that order,
 * each present only when its feature was negotiated and numbered right after the previous
 * present queue. With every optional queue present this is spec 5.5.2's numbering (2, 3, 4);
 * without STATS_VQ, free_page_vq is queue 2; Linux compacts the indices of absent queues away
 * (its find_vqs skips them), so a device keeping fixed indices would take a report for a hint.
 */
import { hasFeature } from '@virtio/core';
import {
  VIRTIO_BALLOON_DEFLATEQ,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_FREE_PAGE_VQ,
  VIRTIO_BALLOON_INFLATEQ,
  VIRTIO_BALLOON_REPORTING_VQ,
  VIRTIO_BALLOON_STATSQ,
} from './protocol.js';

/** The optional queues in numbering order, with the feature each needs. */
const OPTIONAL_QUEUES: readonly (readonly [queue: number, feature: number])[] = [
  [VIRTIO_BALLOON_STATSQ, VIRTIO_BALLOON_F_STATS_VQ],
  [VIRTIO_BALLOON_FREE_PAGE_VQ, VIRTIO_BALLOON_F_FREE_PAGE_HINT],
  [VIRTIO_BALLOON_REPORTING_VQ, VIRTIO_BALLOON_F_PAGE_REPORTING],
];

/**
 * The virtqueue index of balloon queue `queue` (one of VIRTIO_BALLOON_INFLATEQ ..
 * VIRTIO_BALLOON_REPORTING_VQ) under `features`, or undefined when that queue does not exist
 * (its feature is absent, or `queue` is no balloon queue).
 */
export function balloonQueueIndex(queue: number, features: bigint): number | undefined {
  if (queue === VIRTIO_BALLOON_INFLATEQ || queue === VIRTIO_BALLOON_DEFLATEQ) return queue;
  let index = 2;
  for (const [q, feature] of OPTIONAL_QUEUES) {
    const present = hasFeature(features, feature);
    if (q === queue) return present ? index : undefined;
    if (present) index++;
  }
  return undefined;
}

/** Number of virtqueues under `features`: 2 plus one per present optional queue. */
export function balloonQueueCount(features: bigint): number {
  return 2 + OPTIONAL_QUEUES.filter(([, feature]) => hasFeature(features, feature)).length;
}
