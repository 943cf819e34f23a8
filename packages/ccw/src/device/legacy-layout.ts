/**
 * The legacy virtqueue layout (spec 2.7.2 "Legacy Interfaces: A Note on Virtqueue Layout")
 * that vq_info_block_legacy describes with one address and an alignment.
 */

/** Guest-physical addresses of a legacy queue's three parts. */
export interface LegacyQueueLayout {
  readonly desc: bigint;
  readonly driver: bigint;
  readonly device: bigint;
}

/**
 * Descriptor table at `queue` (16 bytes per descriptor), available ring right after it
 * (flags, idx, ring[size], used_event: 6 + 2 * size bytes), used ring at the next multiple of
 * `align`. Null for a size that is not a power of two up to 32768 or an alignment that is
 * not a power of two.
 */
export function legacyQueueLayout(queue: bigint, size: number, align: number): LegacyQueueLayout | null {
  if (size < 1 || size > 32768 || (size & (size - 1)) !== 0) return null;
  if (align < 1 || (align & (align - 1)) !== 0) return null;
  const a = BigInt(align);
  const driver = queue + BigInt(16 * size);
  const device = ((driver + BigInt(6 + 2 * size) + a - 1n) / a) * a;
  return { desc: queue, driver, device };
}
