import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BumpAllocator,
  FlatGuestMemory,
  FreeListAllocator,
  SplitDeviceQueue,
  SplitDriverQueue,
  VirtqueueError,
  createDeviceQueue,
  createDriverQueue,
  isValidSplitQueueSize,
  legacySplitLayout,
  splitLayout,
} from '../src/index.js';
import { NO_FEATURES } from './fixture.js';

describe('split layout', () => {
  it('gives the spec table sizes and alignments', () => {
    expect(splitLayout(256)).toEqual({
      size: 256,
      descTableBytes: 4096,
      descTableAlign: 16,
      availRingBytes: 518,
      availRingAlign: 2,
      usedRingBytes: 2054,
      usedRingAlign: 4,
    });
    expect([1, 2, 32768].every(isValidSplitQueueSize)).toBe(true);
    expect([0, 3, 65536, 1.5, -2].some(isValidSplitQueueSize)).toBe(false);
    expect(() => splitLayout(100)).toThrow(VirtqueueError);
  });

  it('gives the legacy layout of virtq_size() with Queue Align padding', () => {
    // Linux vring_size(256, 4096): 4096 + 518 rounded up to 8192, + 2054 -> used at 8192.
    expect(legacySplitLayout(256)).toEqual({ availOffset: 4096, usedOffset: 8192, totalBytes: 8192 + 4096 });
    expect(legacySplitLayout(128, 4096)).toEqual({ availOffset: 2048, usedOffset: 4096, totalBytes: 8192 });
    expect(() => legacySplitLayout(128, 3000)).toThrow(VirtqueueError);
  });
});

describe('allocators', () => {
  it('BumpAllocator aligns and runs out', () => {
    const a = new BumpAllocator(0x1001, 0x100);
    expect(a.alloc(10, 16)).toBe(0x1010);
    expect(a.alloc(2, 2)).toBe(0x101a);
    expect(() => a.alloc(0x100, 1)).toThrow(Error);
    expect(() => a.alloc(1, 3)).toThrow(RangeError);
  });

  it('FreeListAllocator never hands out overlapping blocks and coalesces on free (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }), fc.constantFrom(1, 2, 8, 64), fc.nat()), { maxLength: 60 }), (ops) => {
        const a = new FreeListAllocator(0x100, 0x1000);
        const live = new Map<number, number>();
        for (const [alloc, len, align, pick] of ops) {
          if (alloc || live.size === 0) {
            let addr: number;
            try {
              addr = a.alloc(len, align);
            } catch {
              continue;
            }
            expect(addr % align).toBe(0);
            expect(addr >= 0x100 && addr + len <= 0x1100).toBe(true);
            for (const [b, l] of live) expect(addr + Math.max(len, 1) <= b || b + l <= addr).toBe(true);
            live.set(addr, Math.max(len, 1));
          } else {
            const addr = [...live.keys()][pick % live.size];
            a.free(addr);
            live.delete(addr);
          }
        }
        for (const addr of live.keys()) a.free(addr);
        expect(a.freeBytes).toBe(0x1000);
        expect(a.alloc(0x1000, 1)).toBe(0x100);
      }),
    );
  });

  it('FreeListAllocator refuses to free what it did not allocate', () => {
    const a = new FreeListAllocator(0, 64);
    expect(() => a.free(8)).toThrow(RangeError);
  });
});

describe('queue factory', () => {
  it('creates split queues when VIRTIO_F_RING_PACKED is off', () => {
    const mem = new FlatGuestMemory(new ArrayBuffer(0x10000));
    const drv = createDriverQueue(mem, new BumpAllocator(0, 0x10000), { size: 8, packed: false, features: NO_FEATURES });
    expect(drv).toBeInstanceOf(SplitDriverQueue);
    const dev = createDeviceQueue(mem, drv.config);
    expect(dev).toBeInstanceOf(SplitDeviceQueue);
    expect(dev.packed).toBe(false);
    expect(dev.size).toBe(8);
  });

  it('creates packed queues when VIRTIO_F_RING_PACKED is on', () => {
    const mem = new FlatGuestMemory(new ArrayBuffer(0x10000));
    const drv = createDriverQueue(mem, new BumpAllocator(0, 0x10000), { size: 8, packed: true, features: NO_FEATURES });
    expect(drv.config.packed).toBe(true);
    expect(createDeviceQueue(mem, drv.config).packed).toBe(true);
  });
});
