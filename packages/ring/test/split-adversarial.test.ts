// An adversarial driver: raw bytes written into guest memory, one test per malformed-ring
// class. The device side must throw a VirtqueueError with the class's code and nothing else,
// never loop, and never touch memory outside the guest.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  RegionGuestMemory,
  SplitDeviceQueue,
  VIRTQ_DESC_F_INDIRECT as I,
  VIRTQ_DESC_F_NEXT as N,
  VIRTQ_DESC_F_WRITE as W,
  VirtqueueError,
  type VirtqueueErrorCode,
} from '../src/index.js';
import { ALL_FEATURES, DATA, DESC, MEM_SIZE, NO_FEATURES, RawSplitRing, writeDesc } from './fixture.js';

function popError(r: RawSplitRing): VirtqueueErrorCode {
  try {
    r.dev.pop();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtqueueError);
    return (e as VirtqueueError).code;
  }
  throw new Error('pop accepted a malformed ring');
}

const TABLE = DATA + 0x8000;

describe('malformed split rings', () => {
  it('head descriptor index at or above the queue size', () => {
    const r = new RawSplitRing(8);
    r.offer(8);
    expect(popError(r)).toBe('descriptor-index-out-of-range');
  });

  it('next index at or above the queue size', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, N, 0xffff);
    r.offer(0);
    expect(popError(r)).toBe('descriptor-index-out-of-range');
  });

  it('next index outside an indirect table', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, N, 2, TABLE);
    r.desc(0, TABLE, 32, I);
    r.offer(0);
    expect(popError(r)).toBe('descriptor-index-out-of-range');
  });

  it('a descriptor that chains to itself', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, N, 0);
    r.offer(0);
    expect(popError(r)).toBe('chain-too-long');
  });

  it('a loop through several descriptors', () => {
    const r = new RawSplitRing(16);
    r.desc(0, DATA, 4, N, 5);
    r.desc(5, DATA, 4, N, 9);
    r.desc(9, DATA, 4, N, 5);
    r.offer(0);
    expect(popError(r)).toBe('chain-too-long');
  });

  it('a loop inside an indirect table', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, N, 1, TABLE);
    r.desc(1, DATA, 4, N, 0, TABLE);
    r.desc(0, TABLE, 32, I);
    r.offer(0);
    expect(popError(r)).toBe('chain-too-long');
  });

  it('an indirect table with more descriptors than the queue size', () => {
    const r = new RawSplitRing(4);
    for (let i = 0; i < 5; i++) r.desc(i, DATA, 4, i < 4 ? N : 0, i + 1, TABLE);
    r.desc(0, TABLE, 5 * 16, I);
    r.offer(0);
    expect(popError(r)).toBe('chain-too-long');
  });

  it('a device-readable descriptor after a device-writable one', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, N | W, 1);
    r.desc(1, DATA, 4, 0);
    r.offer(0);
    expect(popError(r)).toBe('readable-after-writable');
  });

  it('a device-readable descriptor in an indirect table after a writable one in the direct chain', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, 0, 0, TABLE);
    r.desc(0, DATA, 4, N | W, 1);
    r.desc(1, TABLE, 16, I);
    r.offer(0);
    expect(popError(r)).toBe('readable-after-writable');
  });

  it('an indirect table of length 0', () => {
    const r = new RawSplitRing(8);
    r.desc(0, TABLE, 0, I);
    r.offer(0);
    expect(popError(r)).toBe('bad-indirect-length');
  });

  it('an indirect table whose length is not a multiple of 16', () => {
    const r = new RawSplitRing(8);
    r.desc(0, TABLE, 17, I);
    r.offer(0);
    expect(popError(r)).toBe('bad-indirect-length');
  });

  it('an indirect descriptor inside an indirect table', () => {
    const r = new RawSplitRing(8);
    r.desc(0, TABLE, 16, I, 0, TABLE);
    r.desc(0, TABLE, 16, I);
    r.offer(0);
    expect(popError(r)).toBe('nested-indirect');
  });

  it('VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, 0, 0, TABLE);
    r.desc(0, TABLE, 16, I | N, 1);
    r.desc(1, DATA, 4, W);
    r.offer(0);
    expect(popError(r)).toBe('indirect-with-next');
  });

  it('an indirect descriptor although VIRTIO_F_INDIRECT_DESC was not negotiated', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.desc(0, DATA, 4, 0, 0, TABLE);
    r.desc(0, TABLE, 16, I);
    r.offer(0);
    expect(popError(r)).toBe('indirect-not-negotiated');
  });

  it('a buffer that runs past the end of guest memory', () => {
    const r = new RawSplitRing(8);
    r.desc(0, MEM_SIZE - 4, 5, W);
    r.offer(0);
    expect(popError(r)).toBe('address-out-of-range');
  });

  it('a buffer at a 64-bit address no memory has', () => {
    const r = new RawSplitRing(8);
    r.mem.writeU64(DESC, 0xffff_ffff_ffff_f000n);
    r.mem.writeU32(DESC + 8, 16);
    r.offer(0);
    expect(popError(r)).toBe('address-out-of-range');
  });

  it('an indirect table outside guest memory', () => {
    const r = new RawSplitRing(8);
    r.desc(0, MEM_SIZE - 16, 32, I);
    r.offer(0);
    expect(popError(r)).toBe('address-out-of-range');
  });

  it('a buffer in the gap between two memory regions', () => {
    const mem = new RegionGuestMemory([
      { base: 0, bytes: new ArrayBuffer(0x10000) },
      { base: 0x20000, bytes: new ArrayBuffer(0x10000) },
    ]);
    const config = { size: 4, descTable: 0x1000, driverArea: 0x2000, deviceArea: 0x3000, packed: false, features: ALL_FEATURES };
    const dev = new SplitDeviceQueue(mem, config);
    writeDesc(mem, 0x1000, 0xfff0, 0x20, W, 0);
    mem.writeU16(0x2004, 0);
    mem.writeU16(0x2002, 1);
    expect(() => dev.pop()).toThrow(expect.objectContaining({ code: 'address-out-of-range' }));
  });

  it('a chain of 2^32 bytes or more in total', () => {
    // 4096 descriptors, each covering the whole 1 MiB of guest memory: 2^32 bytes in total.
    const r = new RawSplitRing(4096, NO_FEATURES);
    for (let d = 0; d < 4096; d++) r.desc(d, 0, MEM_SIZE, d < 4095 ? N : 0, d + 1);
    r.offer(0);
    expect(popError(r)).toBe('length-overflow');
    // One descriptor fewer is a legal (if odd) chain.
    const ok = new RawSplitRing(4096, NO_FEATURES);
    for (let d = 0; d < 4095; d++) ok.desc(d, 0, MEM_SIZE, d < 4094 ? N : 0, d + 1);
    ok.offer(0);
    expect(ok.dev.pop()!.readableLength).toBe(4095 * MEM_SIZE);
  });

  it('the available idx moving by more than the queue size', () => {
    const r = new RawSplitRing(8);
    r.setAvailIdx(9);
    expect(popError(r)).toBe('avail-index-jump');
    r.setAvailIdx(0xffff);
    expect(popError(r)).toBe('avail-index-jump');
  });

  it('a head made available again while its chain is in flight', () => {
    const r = new RawSplitRing(8);
    r.desc(0, DATA, 4, W);
    r.offer(0, 0);
    r.dev.pop();
    expect(popError(r)).toBe('head-in-flight');
  });

  it('ring parts that cross a memory region boundary are refused at construction', () => {
    const mem = new RegionGuestMemory([
      { base: 0, bytes: new ArrayBuffer(0x1000) },
      { base: 0x1000, bytes: new ArrayBuffer(0x1000) },
    ]);
    const config = { size: 16, descTable: 0xf80, driverArea: 0x1800, deviceArea: 0x1a00, packed: false, features: NO_FEATURES };
    expect(() => new SplitDeviceQueue(mem, config)).toThrow(expect.objectContaining({ code: 'bad-queue-config' }));
  });

  it('random ring contents: pop returns a valid chain or throws a VirtqueueError, always within bounds (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16 * 8, maxLength: 16 * 8 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (descs, table, heads, indirect) => {
          const r = new RawSplitRing(8, indirect ? ALL_FEATURES : NO_FEATURES);
          // Keep addresses small so some chains are valid: clamp each addr's high bytes.
          for (let d = 0; d < 8; d++) {
            descs[16 * d + 2] = descs[16 * d + 3] = descs[16 * d + 4] = descs[16 * d + 5] = descs[16 * d + 6] = descs[16 * d + 7] = 0;
            descs[16 * d + 11] = descs[16 * d + 10] = 0;
          }
          r.mem.write(DESC, descs);
          r.mem.write(TABLE, table);
          r.offer(...heads);
          for (let k = 0; k < heads.length + 1; k++) {
            let c;
            try {
              c = r.dev.pop();
            } catch (e) {
              expect(e).toBeInstanceOf(VirtqueueError);
              return;
            }
            if (c === null) return;
            for (const s of [...c.readable, ...c.writable]) expect(r.mem.contains(s.addr, s.len)).toBe(true);
            expect(c.readable.length + c.writable.length).toBeLessThanOrEqual(8);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
