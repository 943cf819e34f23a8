/**
 * The guest-physical memory map of the x86-64 machine (all values are guest-physical
 * addresses or sizes in bytes).
 *
 * ```
 * 0x0000_0500  GDT (boot)                      0x0000_7000  boot_params (zero page)
 * 0x0000_9000  PML4, 0xA000 PDPT, 0xB000-0xEFFF four page directories (2 MiB pages, 0-4 GiB)
 * 0x0002_0000  kernel command line             0x0009_FC00-0x000F_FFFF reserved (EBDA, BIOS)
 * 0x000E_0000  ACPI tables (RSDP first)        0x0010_0000  protected-mode kernel
 * ... RAM up to min(memory, 3 GiB); the initrd sits at the top of it
 * 0xC000_0000  PCI MMIO window (BARs), 512 MiB 0xE000_0000  PCI ECAM (bus 0, 1 MiB)
 * 0xF000_0000  virtio-mmio device windows       0xFEC0_0000 IOAPIC, 0xFEE0_0000 LAPIC
 * 0x1_0000_0000 RAM above 4 GiB (memory - 3 GiB), when memory > 3 GiB
 * ```
 */
export const GDT_ADDR = 0x500;
export const ZERO_PAGE_ADDR = 0x7000;
export const BOOT_STACK_ADDR = 0x8ff0;
export const PML4_ADDR = 0x9000;
export const PDPT_ADDR = 0xa000;
export const PD_ADDR = 0xb000;
export const CMDLINE_ADDR = 0x20000;
export const EBDA_START = 0x9fc00;
export const ACPI_TABLES_ADDR = 0xe0000;
export const ACPI_TABLES_END = 0x100000;
export const HIMEM_START = 0x100000;
export const KERNEL_LOAD_ADDR = 0x100000;

export const PCI_HOLE_START = 0xc000_0000;
export const PCI_MMIO_WINDOW = { base: 0xc000_0000, size: 0x2000_0000 } as const;
export const PCI_ECAM = { base: 0xe000_0000, size: 0x10_0000, busStart: 0, busEnd: 0 } as const;
export const VIRTIO_MMIO_REGION = { base: 0xf000_0000, stride: 0x1000, count: 32 } as const;
export const IOAPIC_ADDR = 0xfec0_0000;
export const LAPIC_ADDR = 0xfee0_0000;
export const HIGH_RAM_START = 0x1_0000_0000;

/** Smallest guest RAM the VMM accepts, in bytes. */
export const MIN_MEMORY = 64 * 1024 * 1024;

/** One contiguous span of guest RAM: `guestAddr` guest-physical, `offset` into the RAM allocation. */
export interface RamRegion {
  readonly guestAddr: number;
  readonly size: number;
  readonly offset: number;
}

/**
 * Splits `memory` bytes of RAM around the PCI hole: below 3 GiB first, the rest from 4 GiB.
 * @throws RangeError when memory is not a positive multiple of 4 KiB.
 */
export function ramRegions(memory: number): RamRegion[] {
  if (!Number.isSafeInteger(memory) || memory <= 0 || memory % 4096 !== 0) {
    throw new RangeError(`memory size ${memory} is not a positive multiple of 4 KiB`);
  }
  const low = Math.min(memory, PCI_HOLE_START);
  const regions: RamRegion[] = [{ guestAddr: 0, size: low, offset: 0 }];
  if (memory > low) regions.push({ guestAddr: HIGH_RAM_START, size: memory - low, offset: low });
  return regions;
}

/** Error for an unparseable `--memory` value. */
export class MemorySizeError extends Error {
  override name = 'MemorySizeError';
}

/**
 * Parses a memory size like `512M`, `2G`, `1536m`, `65536K` or a plain byte count.
 * @returns bytes, a multiple of 4 KiB.
 * @throws MemorySizeError on malformed input or a size not a multiple of 4 KiB.
 */
export function parseMemorySize(text: string): number {
  const m = /^\s*(\d+)\s*([KMGT]?)(i?B)?\s*$/i.exec(text);
  if (!m) throw new MemorySizeError(`invalid memory size "${text}" (expected e.g. 512M or 2G)`);
  const shift = { '': 0, K: 10, M: 20, G: 30, T: 40 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const bytes = Number(m[1]) * 2 ** shift;
  if (!Number.isSafeInteger(bytes) || bytes % 4096 !== 0 || bytes === 0) {
    throw new MemorySizeError(`invalid memory size "${text}" (must be a non-zero multiple of 4 KiB)`);
  }
  return bytes;
}
