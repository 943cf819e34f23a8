import { ACPI_TABLES_END, EBDA_START, HIMEM_START, PCI_ECAM, type RamRegion } from './layout.js';

/** e820 entry types (ACPI address range types). */
export const E820_RAM = 1;
export const E820_RESERVED = 2;

/** One e820 entry: guest-physical `addr`, `size` in bytes. */
export interface E820Entry {
  readonly addr: number;
  readonly size: number;
  readonly type: number;
}

/**
 * The e820 map the guest sees: low RAM up to the EBDA, the EBDA/BIOS area (where the ACPI
 * tables live) reserved, RAM from 1 MiB to the PCI hole and above 4 GiB, and the ECAM
 * window reserved (Linux accepts MMCONFIG only if its range is reserved).
 * @param regions from `ramRegions()`; the first must start at 0 and exceed 1 MiB.
 */
export function buildE820(regions: readonly RamRegion[]): E820Entry[] {
  const [low, ...high] = regions;
  if (!low || low.guestAddr !== 0 || low.size <= HIMEM_START) throw new RangeError('low RAM must start at 0 and exceed 1 MiB');
  return [
    { addr: 0, size: EBDA_START, type: E820_RAM },
    { addr: EBDA_START, size: ACPI_TABLES_END - EBDA_START, type: E820_RESERVED },
    { addr: HIMEM_START, size: low.size - HIMEM_START, type: E820_RAM },
    { addr: PCI_ECAM.base, size: PCI_ECAM.size, type: E820_RESERVED },
    ...high.map((r) => ({ addr: r.guestAddr, size: r.size, type: E820_RAM })),
  ];
}
