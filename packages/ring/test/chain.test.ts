import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChainBoundsError, ChainReader, ChainWriter, FlatGuestMemory, RegionGuestMemory, type Segment } from '../src/index.js';

const mem = () => new FlatGuestMemory(new ArrayBuffer(0x1000));

describe('ChainReader', () => {
  it('reads a 16-byte header split over two descriptors', () => {
    const m = mem();
    // virtio-blk style header: u32 type, u32 reserved, u64 sector; split 5 + 11 bytes.
    const hdr = new Uint8Array(16);
    const dv = new DataView(hdr.buffer);
    dv.setUint32(0, 1, true);
    dv.setUint32(4, 0xaabbccdd, true);
    dv.setBigUint64(8, 0x0123456789abcdefn, true);
    m.write(0x100, hdr.subarray(0, 5));
    m.write(0x300, hdr.subarray(5));
    const r = new ChainReader(m, [
      { addr: 0x100, len: 5 },
      { addr: 0x200, len: 0 },
      { addr: 0x300, len: 11 },
    ]);
    expect(r.remaining).toBe(16);
    expect(r.readU32()).toBe(1);
    expect(r.readU32()).toBe(0xaabbccdd);
    expect(r.readU64()).toBe(0x0123456789abcdefn);
    expect(r.remaining).toBe(0);
    expect(r.consumed).toBe(16);
  });

  it('copies a segment spanning two adjacent regions among other segments', () => {
    const m = new RegionGuestMemory([
      { base: 0, bytes: new ArrayBuffer(0x100) },
      { base: 0x100, bytes: new ArrayBuffer(0x100) },
    ]);
    m.write(0xfc, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    m.write(0x180, new Uint8Array([9, 10]));
    const dest = new Uint8Array(10);
    new ChainReader(m, [{ addr: 0xfc, len: 8 }, { addr: 0x180, len: 2 }]).read(dest);
    expect([...dest]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('readers and writers interleaving straddling scalars each get their own bytes', () => {
    const m = mem();
    const a = [{ addr: 0x100, len: 3 }, { addr: 0x200, len: 13 }];
    const b = [{ addr: 0x300, len: 1 }, { addr: 0x400, len: 15 }];
    const wa = new ChainWriter(m, a);
    const wb = new ChainWriter(m, b);
    wa.writeU16(0x1111);
    wb.writeU16(0x2222);
    wa.writeU32(0x33333333);
    wb.writeU64(0x4444444444444444n);
    const ra = new ChainReader(m, a);
    const rb = new ChainReader(m, b);
    expect(ra.readU16()).toBe(0x1111);
    expect(rb.readU16()).toBe(0x2222);
    expect(ra.readU32()).toBe(0x33333333);
    expect(rb.readU64()).toBe(0x4444444444444444n);
  });

  it('reads u16 and u64 numbers across a boundary, skips, and hands out zero-copy views', () => {
    const m = mem();
    m.write(0x10, new Uint8Array([0x34]));
    m.write(0x20, new Uint8Array([0x12, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const r = new ChainReader(m, [
      { addr: 0x10, len: 1 },
      { addr: 0x20, len: 10 },
    ]);
    expect(r.readU16()).toBe(0x1234);
    r.skip(1);
    const views = r.readView(3);
    expect(views.map((v) => [...v])).toEqual([[2, 3, 4]]);
    views[0][0] = 99;
    expect(m.readU8(0x22)).toBe(99);
    expect([...r.readBytes(2)]).toEqual([5, 6]);
    expect(r.remaining).toBe(3);
  });

  it('throws ChainBoundsError past the end and consumes nothing', () => {
    const r = new ChainReader(mem(), [{ addr: 0, len: 6 }]);
    r.readU32();
    expect(() => r.readU32()).toThrow(ChainBoundsError);
    expect(() => r.readU64Number()).toThrow(ChainBoundsError);
    expect(() => r.skip(-1)).toThrow(ChainBoundsError);
    expect(r.remaining).toBe(2);
    expect(r.readU16()).toBe(0);
    expect(() => r.readU8()).toThrow(ChainBoundsError);
  });

  it('splits a view at a guest memory region boundary', () => {
    const m = new RegionGuestMemory([
      { base: 0, bytes: new ArrayBuffer(8) },
      { base: 8, bytes: new ArrayBuffer(8) },
    ]);
    const r = new ChainReader(m, [{ addr: 4, len: 8 }]);
    expect(r.readView(8).map((v) => v.byteLength)).toEqual([4, 4]);
  });
});

describe('ChainWriter', () => {
  it('writes scalars across boundaries and counts bytes written', () => {
    const m = mem();
    const w = new ChainWriter(m, [
      { addr: 0x100, len: 3 },
      { addr: 0x200, len: 13 },
    ]);
    w.writeU16(0xbeef);
    w.writeU32(0x01020304);
    w.writeU64(0x1122334455667788n);
    expect(w.written).toBe(14);
    w.skip(1);
    expect(w.written).toBe(14);
    w.writeU8(0x7f);
    expect(w.written).toBe(16);
    expect(() => w.writeU8(0)).toThrow(ChainBoundsError);
    const r = new ChainReader(m, [
      { addr: 0x100, len: 3 },
      { addr: 0x200, len: 13 },
    ]);
    expect(r.readU16()).toBe(0xbeef);
    expect(r.readU32()).toBe(0x01020304);
    expect(r.readU64()).toBe(0x1122334455667788n);
  });

  it('gives writable views that count as written', () => {
    const m = mem();
    const w = new ChainWriter(m, [{ addr: 0x40, len: 8 }]);
    const [v] = w.writeView(4);
    v.set([1, 2, 3, 4]);
    expect(w.written).toBe(4);
    expect(w.remaining).toBe(4);
    expect(m.readU32(0x40)).toBe(0x04030201);
  });

  it('round-trips any byte string over any segmentation (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 12 }), (data, lens) => {
        const m = mem();
        let addr = 0;
        const segs: Segment[] = lens.map((len) => {
          const s = { addr, len };
          addr += len + 7;
          return s;
        });
        const total = lens.reduce((a, b) => a + b, 0);
        const payload = data.subarray(0, Math.min(total, data.length));
        const w = new ChainWriter(m, segs);
        w.write(payload);
        expect(w.written).toBe(payload.length);
        const r = new ChainReader(m, segs);
        expect(r.readBytes(payload.length)).toEqual(payload);
        expect(r.remaining).toBe(total - payload.length);
      }),
    );
  });
});
