import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BootImageError, parseSetupHeader, XLF_KERNEL_64 } from '../src/boot/setup-header.js';
import { cachedKernel, fakeBzImage } from './helpers.js';

describe('setup header', () => {
  it('parses the fields of a synthetic bzImage', () => {
    const h = parseSetupHeader(fakeBzImage({ setupSects: 27, initSize: 0x1234000 }));
    expect(h).toMatchObject({ setupSects: 27, version: 0x20f, kernelOffset: 28 * 512, relocatable: true, kernelAlignment: 0x200000, cmdlineSize: 2048, prefAddress: 0x1000000, initSize: 0x1234000, initrdAddrMax: 0x7fffffff, headerEnd: 0x268 });
    expect(h.xloadflags & XLF_KERNEL_64).toBe(XLF_KERNEL_64);
  });

  it('treats setup_sects 0 as 4', () => {
    const img = fakeBzImage({ setupSects: 4 });
    img[0x1f1] = 0;
    expect(parseSetupHeader(img).kernelOffset).toBe(5 * 512);
  });

  it('rejects a file without the HdrS magic', () => {
    expect(() => parseSetupHeader(fakeBzImage({ magic: 0x12345678 }))).toThrow(/no "HdrS"/);
  });

  it('rejects boot protocols older than 2.06', () => {
    expect(() => parseSetupHeader(fakeBzImage({ version: 0x205 }))).toThrow(/2\.05 is older than 2\.06/);
  });

  it('rejects a kernel without a 64-bit entry point', () => {
    expect(() => parseSetupHeader(fakeBzImage({ xloadflags: 0 }))).toThrow(BootImageError);
  });

  it('rejects a file too short for a header or shorter than its setup code', () => {
    expect(() => parseSetupHeader(new Uint8Array(100))).toThrow(/only 100 bytes/);
    expect(() => parseSetupHeader(fakeBzImage({ setupSects: 4 }).subarray(0, 5 * 512))).toThrow(/past the end/);
  });

  const kernel = cachedKernel();
  it.skipIf(!kernel)('parses the cached Debian kernel (protocol >= 2.15, relocatable, 64-bit)', () => {
    const h = parseSetupHeader(readFileSync(kernel!));
    expect(h.version).toBeGreaterThanOrEqual(0x20f);
    expect(h.relocatable).toBe(true);
    expect(h.kernelAlignment).toBe(0x200000);
    expect(h.prefAddress).toBe(0x1000000);
    expect(h.initSize).toBeGreaterThan(0x1000000);
    expect(h.cmdlineSize).toBe(2047);
  });
});
