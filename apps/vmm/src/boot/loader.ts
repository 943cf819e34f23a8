import { buildBootParams } from './boot-params.js';
import type { E820Entry } from './e820.js';
import { gdtBytes } from './gdt.js';
import { CMDLINE_ADDR, GDT_ADDR, KERNEL_LOAD_ADDR, PML4_ADDR, ZERO_PAGE_ADDR } from './layout.js';
import { buildIdentityPageTables } from './page-tables.js';
import { BootImageError, parseSetupHeader, type SetupHeader } from './setup-header.js';

/** Raised when the guest RAM cannot hold the kernel, its decompression area and the initrd. */
export class MemoryTooSmallError extends Error {
  override name = 'MemoryTooSmallError';
}

/** Inputs to `loadLinux`. `lowRam` views guest-physical 0..lowRam.length (RAM below the hole). */
export interface LoadLinuxOptions {
  readonly lowRam: Uint8Array;
  readonly kernel: Uint8Array;
  readonly initrd?: Uint8Array;
  readonly cmdline: string;
  readonly e820: readonly E820Entry[];
  readonly rsdpAddr: number;
}

/** Where things landed (guest-physical addresses) and how to enter the kernel. */
export interface LoadedLinux {
  readonly header: SetupHeader;
  readonly kernelAddr: number;
  /** 64-bit entry point: kernel load address + 0x200. */
  readonly entry: number;
  readonly bootParamsAddr: number;
  readonly pml4Addr: number;
  readonly gdtAddr: number;
  readonly gdtLimit: number;
  readonly initrd?: { readonly addr: number; readonly size: number };
}

/**
 * Loads a bzImage for the 64-bit boot protocol: the protected-mode kernel at 1 MiB, the
 * initrd at the top of low RAM (below initrd_addr_max, page aligned, above the kernel's
 * decompression area), the command line, boot_params, identity page tables and the GDT.
 * @throws BootImageError for a malformed image or a command line longer than cmdline_size.
 * @throws MemoryTooSmallError when the kernel or the initrd does not fit in low RAM.
 */
export function loadLinux(opts: LoadLinuxOptions): LoadedLinux {
  const { lowRam, kernel } = opts;
  const header = parseSetupHeader(kernel);
  const payload = kernel.subarray(header.kernelOffset);
  // The kernel decompresses in place to max(load address, pref_address) + init_size.
  const runAddr = header.relocatable ? Math.max(KERNEL_LOAD_ADDR, header.prefAddress) : header.prefAddress;
  const kernelEnd = Math.max(KERNEL_LOAD_ADDR + payload.length, runAddr + header.initSize);
  const mib = (n: number) => `${Math.ceil(n / 2 ** 20)} MiB`;
  if (kernelEnd > lowRam.length) {
    throw new MemoryTooSmallError(`memory too small: the kernel needs ${mib(kernelEnd)} of low RAM, the guest has ${mib(lowRam.length)}`);
  }
  const cmdline = new TextEncoder().encode(opts.cmdline);
  if (cmdline.length >= header.cmdlineSize) {
    throw new BootImageError(`command line is ${cmdline.length} bytes; this kernel accepts at most ${header.cmdlineSize - 1}`);
  }
  lowRam.set(payload, KERNEL_LOAD_ADDR);
  lowRam.fill(0, CMDLINE_ADDR, CMDLINE_ADDR + cmdline.length + 1);
  lowRam.set(cmdline, CMDLINE_ADDR);

  let initrd: LoadedLinux['initrd'];
  if (opts.initrd) {
    const top = Math.min(lowRam.length, header.initrdAddrMax + 1);
    const addr = Math.floor((top - opts.initrd.length) / 4096) * 4096;
    if (addr < kernelEnd) {
      throw new MemoryTooSmallError(`memory too small: kernel and initrd need ${mib(kernelEnd + opts.initrd.length)} of low RAM, the guest has ${mib(lowRam.length)}`);
    }
    lowRam.set(opts.initrd, addr);
    initrd = { addr, size: opts.initrd.length };
  }
  const zeroPage = buildBootParams({ image: kernel, header, e820: opts.e820, cmdlineAddr: CMDLINE_ADDR, initrd, rsdpAddr: opts.rsdpAddr });
  lowRam.set(zeroPage, ZERO_PAGE_ADDR);
  lowRam.set(buildIdentityPageTables(), PML4_ADDR);
  const gdt = gdtBytes();
  lowRam.set(gdt, GDT_ADDR);
  return {
    header,
    kernelAddr: KERNEL_LOAD_ADDR,
    entry: KERNEL_LOAD_ADDR + 0x200,
    bootParamsAddr: ZERO_PAGE_ADDR,
    pml4Addr: PML4_ADDR,
    gdtAddr: GDT_ADDR,
    gdtLimit: gdt.length - 1,
    initrd,
  };
}
