/**
 * Where the transport puts things in its Base Address Registers, and the BAR registers
 * themselves in the configuration header ([PCI] 6.2.5.1). The layout follows QEMU's, so
 * guests and firmware see a familiar function:
 *
 *   BAR0      I/O, the legacy interface (transitional devices only)
 *   BAR1      32-bit memory, the MSI-X table and PBA (when MSI-X is present)
 *   BAR2/3    64-bit prefetchable memory, shared memory regions (when the device has any)
 *   BAR4/5    64-bit memory, the virtio structures: common configuration, ISR status,
 *             device-specific configuration, notifications
 *
 * Sizes are powers of two; offsets are bytes from the start of the BAR.
 */
import type { ConfigSpace } from './config-space.js';
import {
  COMMON_CFG_SIZE,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_HEADER,
  PCI_MSIX_ENTRY_SIZE,
} from '../protocol.js';

/** A structure inside a BAR: BAR index 0..5, offset and length in bytes. */
export interface PciRegion {
  readonly bar: number;
  readonly offset: number;
  readonly length: number;
}

/** What a BAR holds. */
export type PciBarContents = 'legacy' | 'msix' | 'shared-memory' | 'virtio';

/** One implemented BAR, for the VMM to assign an address to. */
export interface PciBar {
  /** BAR index 0..5 (a 64-bit BAR also occupies index + 1). */
  readonly index: number;
  readonly space: 'memory' | 'io';
  readonly is64: boolean;
  readonly prefetchable: boolean;
  /** Size in bytes, a power of two. */
  readonly size: number;
  readonly contents: PciBarContents;
}

/** One shared memory region (spec 2.10) as placed in the shared-memory BAR. */
export interface PciSharedMemoryRegion extends PciRegion {
  /** The region's shmid (cap.id of its VIRTIO_PCI_CAP_SHARED_MEMORY_CFG capability). */
  readonly id: number;
}

/** The complete BAR layout of a {@link PciTransport}. */
export interface PciLayout {
  readonly bars: readonly PciBar[];
  readonly common: PciRegion;
  readonly isr: PciRegion;
  /** Absent when the device has no device-specific configuration. */
  readonly device?: PciRegion;
  readonly notify: PciRegion;
  /** Bytes between the notification addresses of queue n and n + 1 (notify_off_multiplier). */
  readonly notifyOffMultiplier: number;
  /** MSI-X table and PBA; absent without MSI-X. */
  readonly msixTable?: PciRegion;
  readonly msixPba?: PciRegion;
  readonly sharedMemory: readonly PciSharedMemoryRegion[];
  /** The legacy I/O register block (transitional devices). */
  readonly legacy?: PciRegion;
}

export const LEGACY_BAR = 0;
export const MSIX_BAR = 1;
export const SHM_BAR = 2;
export const VIRTIO_BAR = 4;

const PAGE = 0x1000;
const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;
const pow2 = (n: number): number => {
  let p = 1;
  while (p < n) p *= 2;
  return p;
};

export interface LayoutInput {
  readonly numQueues: number;
  readonly configSize: number;
  readonly notifyOffMultiplier: number;
  readonly msixVectors: number;
  readonly sharedMemory: readonly { readonly id: number; readonly size: number }[];
  /** Size of the legacy register block in bytes, when the device is transitional. */
  readonly legacySize?: number;
}

/**
 * Computes the layout; pure.
 * @throws RangeError when two shared memory regions have the same id (cap.id must be unique).
 */
export function computeLayout(input: LayoutInput): PciLayout {
  const ids = new Set(input.sharedMemory.map((r) => r.id));
  if (ids.size !== input.sharedMemory.length) throw new RangeError('shared memory region ids are not unique');
  const bars: PciBar[] = [];
  let legacy: PciRegion | undefined;
  if (input.legacySize !== undefined) {
    const size = Math.max(32, pow2(input.legacySize));
    legacy = { bar: LEGACY_BAR, offset: 0, length: input.legacySize };
    bars.push({ index: LEGACY_BAR, space: 'io', is64: false, prefetchable: false, size, contents: 'legacy' });
  }
  let msixTable: PciRegion | undefined;
  let msixPba: PciRegion | undefined;
  if (input.msixVectors > 0) {
    const tableLen = input.msixVectors * PCI_MSIX_ENTRY_SIZE;
    const pbaLen = Math.ceil(input.msixVectors / 64) * 8;
    msixTable = { bar: MSIX_BAR, offset: 0, length: tableLen };
    msixPba = { bar: MSIX_BAR, offset: roundUp(tableLen, 8), length: pbaLen };
    const size = Math.max(PAGE, pow2(roundUp(tableLen, 8) + pbaLen));
    bars.push({ index: MSIX_BAR, space: 'memory', is64: false, prefetchable: false, size, contents: 'msix' });
  }
  const sharedMemory: PciSharedMemoryRegion[] = [];
  let shmEnd = 0;
  for (const r of input.sharedMemory) {
    const offset = roundUp(shmEnd, Math.min(pow2(Math.max(r.size, 1)), 1 << 30));
    sharedMemory.push({ id: r.id, bar: SHM_BAR, offset, length: r.size });
    shmEnd = offset + r.size;
  }
  if (sharedMemory.length > 0) {
    bars.push({ index: SHM_BAR, space: 'memory', is64: true, prefetchable: true, size: Math.max(PAGE, pow2(shmEnd)), contents: 'shared-memory' });
  }
  const common: PciRegion = { bar: VIRTIO_BAR, offset: 0, length: COMMON_CFG_SIZE };
  const isr: PciRegion = { bar: VIRTIO_BAR, offset: PAGE, length: 1 };
  let next = 2 * PAGE;
  let device: PciRegion | undefined;
  if (input.configSize > 0) {
    device = { bar: VIRTIO_BAR, offset: next, length: input.configSize };
    next += roundUp(input.configSize, PAGE);
  }
  // cap.length >= queue_notify_off * notify_off_multiplier + 4 for every queue (spec 4.1.4.4.1),
  // which covers both the 16-bit and the VIRTIO_F_NOTIFICATION_DATA 32-bit notification.
  const notifyLen = Math.max(0, input.numQueues - 1) * input.notifyOffMultiplier + 4;
  const notify: PciRegion = { bar: VIRTIO_BAR, offset: next, length: notifyLen };
  next += roundUp(notifyLen, PAGE);
  bars.push({ index: VIRTIO_BAR, space: 'memory', is64: true, prefetchable: false, size: pow2(next), contents: 'virtio' });
  return {
    bars,
    common,
    isr,
    device,
    notify,
    notifyOffMultiplier: input.notifyOffMultiplier,
    msixTable,
    msixPba,
    sharedMemory,
    legacy,
  };
}

/**
 * Presents the BARs of `layout` in the header of `space`: the type bits read-only, the
 * address bits writable above the size, so an all-ones write reads back the size mask.
 */
export function installBars(space: ConfigSpace, layout: PciLayout): void {
  for (const bar of layout.bars) {
    const reg = PCI_HEADER.bar0 + 4 * bar.index;
    if (bar.space === 'io') {
      space.set(reg, 4, PCI_BASE_ADDRESS_SPACE_IO);
      space.writable(reg, 4, ~(bar.size - 1) & 0xfffffffc);
      continue;
    }
    const type = (bar.is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (bar.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
    space.set(reg, 4, type);
    const lowMask = bar.size >= 2 ** 32 ? 0 : ~(bar.size - 1) & 0xfffffff0;
    space.writable(reg, 4, lowMask);
    if (bar.is64) {
      const highMask = bar.size > 2 ** 32 ? ~(bar.size / 2 ** 32 - 1) : 0xffffffff;
      space.writable(reg + 4, 4, highMask);
    }
  }
}

/**
 * The address the driver programmed into BAR `bar` (bytes; the low type bits masked off),
 * or undefined when the BAR is not implemented. 64-bit BARs combine both registers.
 */
export function barAddress(space: ConfigSpace, layout: PciLayout, index: number): number | undefined {
  const bar = layout.bars.find((b) => b.index === index);
  if (!bar) return undefined;
  const reg = PCI_HEADER.bar0 + 4 * index;
  const low = space.get(reg, 4);
  if (bar.space === 'io') return (low & 0xfffffffc) >>> 0;
  const base = (low & 0xfffffff0) >>> 0;
  return bar.is64 ? base + space.get(reg + 4, 4) * 2 ** 32 : base;
}
