import { describe, expect, it } from 'vitest';
import { BP, buildBootParams } from '../src/boot/boot-params.js';
import { buildE820, E820_RAM, E820_RESERVED } from '../src/boot/e820.js';
import { BOOT_CS, BOOT_DS, gdtBytes, segmentFromGdt } from '../src/boot/gdt.js';
import { CMDLINE_ADDR, GDT_ADDR, MemorySizeError, parseMemorySize, PD_ADDR, PDPT_ADDR, PML4_ADDR, ramRegions, ZERO_PAGE_ADDR } from '../src/boot/layout.js';
import { loadLinux, MemoryTooSmallError } from '../src/boot/loader.js';
import { buildIdentityPageTables } from '../src/boot/page-tables.js';
import { RESET_VECTOR_ADDR, resetStub } from '../src/boot/reset-vector.js';
import { BootImageError, parseSetupHeader } from '../src/boot/setup-header.js';
import { fakeBzImage } from './helpers.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;

describe('memory sizes and layout', () => {
  it('parses --memory values', () => {
    expect(parseMemorySize('512M')).toBe(512 * MiB);
    expect(parseMemorySize('2G')).toBe(2 * GiB);
    expect(parseMemorySize('1536m')).toBe(1536 * MiB);
    expect(parseMemorySize('65536K')).toBe(64 * MiB);
    expect(parseMemorySize('4GiB')).toBe(4 * GiB);
    expect(parseMemorySize('1048576')).toBe(MiB);
  });

  it('rejects malformed sizes', () => {
    for (const bad of ['', 'lots', '-1G', '1.5G', '0M', '1000']) expect(() => parseMemorySize(bad)).toThrow(MemorySizeError);
  });

  it('keeps RAM below 3 GiB and puts the rest above 4 GiB', () => {
    expect(ramRegions(512 * MiB)).toEqual([{ guestAddr: 0, size: 512 * MiB, offset: 0 }]);
    expect(ramRegions(5 * GiB)).toEqual([
      { guestAddr: 0, size: 3 * GiB, offset: 0 },
      { guestAddr: 4 * GiB, size: 2 * GiB, offset: 3 * GiB },
    ]);
  });

  it('builds an e820 map with the EBDA/BIOS area and ECAM reserved', () => {
    const e = buildE820(ramRegions(5 * GiB));
    expect(e).toEqual([
      { addr: 0, size: 0x9fc00, type: E820_RAM },
      { addr: 0x9fc00, size: 0x100000 - 0x9fc00, type: E820_RESERVED },
      { addr: MiB, size: 3 * GiB - MiB, type: E820_RAM },
      { addr: 0xe0000000, size: MiB, type: E820_RESERVED },
      { addr: 4 * GiB, size: 2 * GiB, type: E820_RAM },
    ]);
  });
});

describe('boot_params', () => {
  const image = fakeBzImage();
  const header = parseSetupHeader(image);
  const e820 = buildE820(ramRegions(3 * GiB + 4 * GiB));
  const zp = buildBootParams({ image, header, e820, cmdlineAddr: 0x20000, initrd: { addr: 0x1_2345_6000, size: 0x1_0000_0001 }, rsdpAddr: 0xe0000 });

  it('is one 4 KiB page with the setup header copied at 0x1f1', () => {
    expect(zp.length).toBe(4096);
    expect(BP.hdr).toBe(0x1f1);
    expect(u32(zp, 0x202)).toBe(0x53726448);
    expect(zp.subarray(0x1f1, 0x1fa)).toEqual(image.subarray(0x1f1, 0x1fa));
    expect(zp.subarray(0x1fc, 0x210)).toEqual(image.subarray(0x1fc, 0x210));
    expect(zp[0x268]).toBe(0);
  });

  it('sets type_of_loader 0xFF, CAN_USE_HEAP and vid_mode', () => {
    expect(zp[0x210]).toBe(0xff);
    expect(zp[0x211] & 0x81).toBe(0x81);
    expect(new DataView(zp.buffer).getUint16(0x1fa, true)).toBe(0xffff);
  });

  it('splits cmd_line_ptr, ramdisk_image and ramdisk_size into low and ext_ halves', () => {
    expect(u32(zp, 0x228)).toBe(0x20000);
    expect(u32(zp, 0x0c8)).toBe(0);
    expect(u32(zp, 0x218)).toBe(0x2345_6000);
    expect(u32(zp, 0x0c0)).toBe(1);
    expect(u32(zp, 0x21c)).toBe(1);
    expect(u32(zp, 0x0c4)).toBe(1);
  });

  it('holds acpi_rsdp_addr at 0x070, e820_entries at 0x1e8 and the table at 0x2d0', () => {
    expect(u64(zp, 0x070)).toBe(0xe0000);
    expect(zp[0x1e8]).toBe(e820.length);
    e820.forEach((e, i) => {
      expect(u64(zp, 0x2d0 + 20 * i)).toBe(e.addr);
      expect(u64(zp, 0x2d0 + 20 * i + 8)).toBe(e.size);
      expect(u32(zp, 0x2d0 + 20 * i + 16)).toBe(e.type);
    });
  });

  it('refuses more than 128 e820 entries', () => {
    const many = Array.from({ length: 129 }, (_, i) => ({ addr: i * 4096, size: 4096, type: 1 }));
    expect(() => buildBootParams({ image, header, e820: many, cmdlineAddr: 0, rsdpAddr: 0 })).toThrow(RangeError);
  });
});

describe('page tables and GDT', () => {
  it('identity-maps 0-4 GiB with 2 MiB pages', () => {
    const pt = buildIdentityPageTables();
    const at = (addr: number) => addr - PML4_ADDR;
    expect(u64(pt, at(PML4_ADDR))).toBe(PDPT_ADDR | 3);
    for (let g = 0; g < 4; g++) expect(u64(pt, at(PDPT_ADDR) + 8 * g)).toBe((PD_ADDR + g * 0x1000) | 3);
    expect(u64(pt, at(PD_ADDR))).toBe(0x83);
    expect(u64(pt, at(PD_ADDR) + 8)).toBe(2 * MiB + 0x83);
    expect(u64(pt, at(PD_ADDR + 3 * 0x1000) + 8 * 511)).toBe(4 * GiB - 2 * MiB + 0x83);
  });

  it('has flat 64-bit code at __BOOT_CS 0x10 and flat data at __BOOT_DS 0x18', () => {
    const cs = segmentFromGdt(BOOT_CS / 8);
    expect(cs).toMatchObject({ selector: 0x10, base: 0, limit: 0xffffffff, l: 1, db: 0, present: 1, s: 1, type: 0xb, g: 1 });
    const ds = segmentFromGdt(BOOT_DS / 8);
    expect(ds).toMatchObject({ selector: 0x18, base: 0, limit: 0xffffffff, l: 0, db: 1, present: 1, s: 1, type: 0x3 });
    expect(u64(gdtBytes(), 0x10)).toBe(Number(0x00af9b000000ffffn));
  });
});

describe('loadLinux', () => {
  const opts = (ram: number, initrd?: number) => ({
    lowRam: new Uint8Array(ram),
    kernel: fakeBzImage({ initSize: 8 * MiB }),
    initrd: initrd === undefined ? undefined : new Uint8Array(initrd).fill(0xa5),
    cmdline: 'console=ttyS0 panic=-1',
    e820: buildE820(ramRegions(ram)),
    rsdpAddr: 0xe0000,
  });

  it('loads the kernel at 1 MiB, enters at +0x200 and places the initrd page-aligned at the top', () => {
    const o = opts(64 * MiB, 5000);
    const l = loadLinux(o);
    expect(l.kernelAddr).toBe(MiB);
    expect(l.entry).toBe(MiB + 0x200);
    expect(o.lowRam.subarray(MiB, MiB + 16)).toEqual(o.kernel.subarray(5 * 512, 5 * 512 + 16));
    expect(l.initrd).toEqual({ addr: 64 * MiB - 8192, size: 5000 });
    expect(o.lowRam[64 * MiB - 8192]).toBe(0xa5);
    expect(u32(o.lowRam, ZERO_PAGE_ADDR + 0x218)).toBe(64 * MiB - 8192);
    expect(new TextDecoder().decode(o.lowRam.subarray(CMDLINE_ADDR, CMDLINE_ADDR + 22))).toBe('console=ttyS0 panic=-1');
    expect(o.lowRam[CMDLINE_ADDR + 22]).toBe(0);
    expect(o.lowRam.subarray(GDT_ADDR + 0x10, GDT_ADDR + 0x18)).toEqual(gdtBytes().subarray(0x10, 0x18));
  });

  it('keeps the initrd below initrd_addr_max', () => {
    const o = { ...opts(128 * MiB, 4096), kernel: fakeBzImage({ initrdAddrMax: 64 * MiB - 1 }) };
    expect(loadLinux(o).initrd?.addr).toBe(64 * MiB - 4096);
  });

  it('fails when the kernel decompression area or the initrd does not fit', () => {
    expect(() => loadLinux(opts(20 * MiB))).toThrow(MemoryTooSmallError);
    expect(() => loadLinux(opts(32 * MiB, 10 * MiB))).toThrow(/kernel and initrd need/);
  });

  it('rejects a command line longer than cmdline_size - 1', () => {
    const o = { ...opts(64 * MiB), kernel: fakeBzImage({ cmdlineSize: 10 }), cmdline: 'x'.repeat(10) };
    expect(() => loadLinux(o)).toThrow(BootImageError);
  });
});

describe('reset vector stub', () => {
  it('is real-mode code at F000:FFF0 writing the reset value to the ACPI reset port', () => {
    expect(RESET_VECTOR_ADDR).toBe(0xf0000 + 0xfff0);
    // mov dx, 0x602; mov al, 1; out dx, al; hlt; jmp -3 (back to hlt)
    expect([...resetStub(0x602, 1)]).toEqual([0xba, 0x02, 0x06, 0xb0, 0x01, 0xee, 0xf4, 0xeb, 0xfd]);
    expect(resetStub(0x602, 1).length).toBeLessThanOrEqual(16);
  });
});
