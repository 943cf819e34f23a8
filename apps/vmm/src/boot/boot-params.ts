import type { E820Entry } from './e820.js';
import { CAN_USE_HEAP, SETUP_HEADER_OFFSET, type SetupHeader } from './setup-header.js';

/** Offsets inside struct boot_params (the "zero page", 4096 bytes). */
export const BP = {
  size: 0x1000,
  acpiRsdpAddr: 0x070,
  extRamdiskImage: 0x0c0,
  extRamdiskSize: 0x0c4,
  extCmdLinePtr: 0x0c8,
  e820Entries: 0x1e8,
  hdr: 0x1f1,
  vidMode: 0x1fa,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  e820Table: 0x2d0,
  e820Max: 128,
} as const;

/** What goes into boot_params besides the kernel's own setup header (addresses guest-physical). */
export interface BootParamsInput {
  readonly image: Uint8Array;
  readonly header: SetupHeader;
  readonly e820: readonly E820Entry[];
  readonly cmdlineAddr: number;
  readonly initrd?: { readonly addr: number; readonly size: number };
  readonly rsdpAddr: number;
}

/**
 * Builds boot_params: the setup header copied from the image, type_of_loader 0xFF,
 * CAN_USE_HEAP, the e820 table, command line and initrd pointers (low and ext_ halves) and
 * acpi_rsdp_addr. Returns the 4096-byte zero page.
 * @throws RangeError if the e820 table has more than 128 entries.
 */
export function buildBootParams(input: BootParamsInput): Uint8Array {
  const zp = new Uint8Array(BP.size);
  const dv = new DataView(zp.buffer);
  zp.set(input.image.subarray(SETUP_HEADER_OFFSET, input.header.headerEnd), BP.hdr);
  dv.setUint16(BP.vidMode, 0xffff, true);
  zp[BP.typeOfLoader] = 0xff;
  zp[BP.loadflags] |= CAN_USE_HEAP;
  dv.setUint16(BP.heapEndPtr, 0xfe00 - 0x200, true);
  setSplit(dv, BP.cmdLinePtr, BP.extCmdLinePtr, input.cmdlineAddr);
  if (input.initrd) {
    setSplit(dv, BP.ramdiskImage, BP.extRamdiskImage, input.initrd.addr);
    setSplit(dv, BP.ramdiskSize, BP.extRamdiskSize, input.initrd.size);
  }
  dv.setUint32(BP.acpiRsdpAddr, input.rsdpAddr >>> 0, true);
  dv.setUint32(BP.acpiRsdpAddr + 4, Math.floor(input.rsdpAddr / 2 ** 32), true);
  if (input.e820.length > BP.e820Max) throw new RangeError(`e820 map has ${input.e820.length} entries (max ${BP.e820Max})`);
  zp[BP.e820Entries] = input.e820.length;
  input.e820.forEach((e, i) => {
    const at = BP.e820Table + i * 20;
    dv.setUint32(at, e.addr >>> 0, true);
    dv.setUint32(at + 4, Math.floor(e.addr / 2 ** 32), true);
    dv.setUint32(at + 8, e.size >>> 0, true);
    dv.setUint32(at + 12, Math.floor(e.size / 2 ** 32), true);
    dv.setUint32(at + 16, e.type, true);
  });
  return zp;
}

/** Writes the low 32 bits at `lo` and the high 32 bits at `hi` (boot_params' ext_ fields). */
function setSplit(dv: DataView, lo: number, hi: number, value: number): void {
  dv.setUint32(lo, value >>> 0, true);
  dv.setUint32(hi, Math.floor(value / 2 ** 32), true);
}
