import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FlatGuestMemory, GuestMemoryError, RegionGuestMemory, type GuestMemory } from '../src/index.js';

function expectMemError(fn: () => unknown, addr: number, len: number): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GuestMemoryError);
    expect((e as GuestMemoryError).addr).toBe(addr);
    expect((e as GuestMemoryError).len).toBe(len);
    return;
  }
  throw new Error('expected a GuestMemoryError');
}

describe('FlatGuestMemory', () => {
  const mem = () => new FlatGuestMemory(new ArrayBuffer(64), 0x1000);

  it('reads and writes little-endian scalars at its base address', () => {
    const m = mem();
    m.writeU16(0x1000, 0x1234);
    m.writeU32(0x1004, 0xdeadbeef);
    m.writeU64(0x1008, 0x0102030405060708n);
    m.writeU64(0x1010, 2 ** 40 + 5);
    expect(m.readU8(0x1000)).toBe(0x34);
    expect(m.readU16(0x1000)).toBe(0x1234);
    expect(m.readU32(0x1004)).toBe(0xdeadbeef);
    expect(m.readU64(0x1008)).toBe(0x0102030405060708n);
    expect(m.readU8(0x1008)).toBe(0x08);
    expect(m.readU64Number(0x1010)).toBe(2 ** 40 + 5);
  });

  it('refuses u64 numbers of 2^53 or more', () => {
    const m = mem();
    m.writeU64(0x1000, 1n << 53n);
    expectMemError(() => m.readU64Number(0x1000), 0x1000, 8);
  });

  it('bounds-checks every access, including overflow, negative and non-integer inputs', () => {
    const m = mem();
    expectMemError(() => m.readU8(0xfff), 0xfff, 1);
    expectMemError(() => m.readU32(0x103d), 0x103d, 4);
    expectMemError(() => m.readU64(0x1040), 0x1040, 8);
    expectMemError(() => m.writeU16(-2, 1), -2, 2);
    expectMemError(() => m.readU16(4096.5), 4096.5, 2);
    expectMemError(() => m.view(0x1000, 65), 0x1000, 65);
    expectMemError(() => m.view(0x1000, -1), 0x1000, -1);
    expectMemError(() => m.view(0x1000, 1.5), 0x1000, 1.5);
    expectMemError(() => m.view(2 ** 53 - 1, 2 ** 53), 2 ** 53 - 1, 2 ** 53);
    expectMemError(() => m.read(Number.NaN, new Uint8Array(1)), Number.NaN, 1);
    expectMemError(() => m.write(0x1040, new Uint8Array(1)), 0x1040, 1);
    expect(m.contains(0x1000, 64)).toBe(true);
    expect(m.contains(0x1040, 0)).toBe(true);
    expect(m.contains(0x1001, 64)).toBe(false);
    expect(m.contains(Infinity, 0)).toBe(false);
  });

  it('gives zero-copy views and copies', () => {
    const buf = new SharedArrayBuffer(32);
    const m = new FlatGuestMemory(buf);
    m.view(4, 4).set([1, 2, 3, 4]);
    expect(new Uint8Array(buf)[5]).toBe(2);
    const out = new Uint8Array(4);
    m.read(4, out);
    expect([...out]).toEqual([1, 2, 3, 4]);
    m.write(30, new Uint8Array([9, 9]));
    expect(m.views(30, 2).map((v) => [...v])).toEqual([[9, 9]]);
    expect(m.views(32, 0)).toEqual([]);
  });

  it('uses a Uint8Array window as is', () => {
    const backing = new Uint8Array(16);
    const m = new FlatGuestMemory(backing.subarray(8), 0);
    m.writeU8(0, 7);
    expect(backing[8]).toBe(7);
    expect(m.size).toBe(8);
  });

  it('rejects bases that cannot be guest-physical addresses', () => {
    expect(() => new FlatGuestMemory(new ArrayBuffer(8), -1)).toThrow(RangeError);
    expect(() => new FlatGuestMemory(new ArrayBuffer(8), 2 ** 53 - 4)).toThrow(RangeError);
  });
});

describe('RegionGuestMemory', () => {
  // [0, 16) and [16, 32) adjacent, then a gap, then [64, 80).
  const mem = () =>
    new RegionGuestMemory([
      { base: 64, bytes: new ArrayBuffer(16) },
      { base: 0, bytes: new ArrayBuffer(16) },
      { base: 16, bytes: new Uint8Array(16) },
    ]);

  it('sorts its regions and accesses each', () => {
    const m = mem();
    expect(m.layout).toEqual([
      { base: 0, size: 16 },
      { base: 16, size: 16 },
      { base: 64, size: 16 },
    ]);
    m.writeU32(64, 0xabcdef01);
    expect(m.readU32(64)).toBe(0xabcdef01);
  });

  it('splits a range over adjacent regions into views, and refuses a single view of it', () => {
    const m = mem();
    m.write(12, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const vs = m.views(12, 8);
    expect(vs.map((v) => [...v])).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expectMemError(() => m.view(12, 8), 12, 8);
    expect(m.readU64(12)).toBe(0x0807060504030201n);
    m.writeU32(14, 0x11223344);
    expect(m.readU32(14)).toBe(0x11223344);
    expect(m.readU8(16)).toBe(0x22);
  });

  it('throws on any byte in a gap', () => {
    const m = mem();
    expectMemError(() => m.views(30, 4), 30, 4);
    expectMemError(() => m.readU16(31), 31, 2);
    expectMemError(() => m.writeU64(60, 1n), 60, 8);
    expectMemError(() => m.read(40, new Uint8Array(1)), 40, 1);
    expectMemError(() => m.readU8(80), 80, 1);
    expect(m.contains(0, 32)).toBe(true);
    expect(m.contains(0, 33)).toBe(false);
    expect(m.contains(32, 0)).toBe(true);
    expect(m.contains(40, 0)).toBe(false);
  });

  it('rejects overlapping regions', () => {
    expect(
      () =>
        new RegionGuestMemory([
          { base: 0, bytes: new ArrayBuffer(16) },
          { base: 8, bytes: new ArrayBuffer(16) },
        ]),
    ).toThrow(RangeError);
  });

  it('agrees with a flat memory on every in-bounds access and throws on the rest (property)', () => {
    const flat = new FlatGuestMemory(new ArrayBuffer(32));
    const regions = mem();
    fc.assert(
      fc.property(fc.integer({ min: -8, max: 100 }), fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 40 }), (addr, len, data) => {
        const src = data.subarray(0, len);
        const ok = addr >= 0 && addr + src.length <= 32;
        for (const m of [flat, regions] as GuestMemory[]) {
          if (ok) {
            m.write(addr, src);
            const back = new Uint8Array(src.length);
            m.read(addr, back);
            expect(back).toEqual(src);
          } else if (addr < 64 || addr + src.length > 80) {
            expect(() => m.write(addr, src)).toThrow(GuestMemoryError);
          }
        }
      }),
    );
  });
});
