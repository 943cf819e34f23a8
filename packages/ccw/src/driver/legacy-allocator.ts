/**
 * Revision 0 (legacy) queues are one contiguous block (spec 2.7.2) that vq_info_block_legacy
 * names by its start: this allocator hands a driver queue its three parts inside one such block.
 */
import { legacySplitLayout, type GuestAllocator } from '@virtio/ring';
import { KVM_VIRTIO_CCW_RING_ALIGN } from '../protocol/constants.js';

/**
 * An allocator for exactly one split driver queue of `size` descriptors in the legacy layout
 * with 4096-byte alignment: the block is taken from `allocator`, then the descriptor table,
 * available ring and used ring are handed out in that order (as @virtio/ring's split driver
 * queue asks for them).
 * @throws VirtqueueError 'bad-queue-config' for a size that is not a power of two; allocator errors
 */
export function legacyRingAllocator(allocator: GuestAllocator, size: number): GuestAllocator {
  const layout = legacySplitLayout(size, KVM_VIRTIO_CCW_RING_ALIGN);
  const base = allocator.alloc(layout.totalBytes, KVM_VIRTIO_CCW_RING_ALIGN);
  const parts = [base, base + layout.availOffset, base + layout.usedOffset];
  let next = 0;
  return {
    alloc(): number {
      if (next >= parts.length) throw new Error('legacy ring allocator: the queue already has its three parts');
      return parts[next++];
    },
    free(): void {},
  };
}
