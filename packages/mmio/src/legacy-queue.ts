/**
 * Legacy virtio-mmio (version 1) queue placement: one block at QueuePFN * GuestPageSize holding
 * the descriptor table, the available ring and, at the next QueueAlign boundary, the used ring
 * (spec 2.7.2 "Legacy Interfaces: A Note on Virtqueue Layout", spec 4.2.4).
 */
import { legacySplitLayout } from '@virtio/ring';

/** Guest-physical addresses of the three parts of a legacy queue. */
export interface LegacyQueueAddresses {
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
}

/** @returns the addresses, or undefined for a size, alignment or address the layout does not allow */
export function legacyQueueAddresses(pfn: number, pageSize: number, size: number, align: number): LegacyQueueAddresses | undefined {
  const desc = pfn * pageSize;
  let layout;
  try {
    layout = legacySplitLayout(size, align);
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(desc + layout.totalBytes)) return undefined;
  return { desc, driver: desc + layout.availOffset, device: desc + layout.usedOffset };
}
