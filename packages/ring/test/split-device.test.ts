import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  BumpAllocator,
  ChainReader,
  ChainWriter,
  RegionGuestMemory,
  SplitDeviceQueue,
  SplitDriverQueue,
  VIRTQ_DESC_F_INDIRECT as I,
  VIRTQ_DESC_F_NEXT as N,
  VIRTQ_DESC_F_WRITE as W,
  VirtqueueError,
} from '../src/index.js';
import { ALL_FEATURES, AVAIL, DATA, DESC, NO_FEATURES, RawSplitRing, USED } from './fixture.js';

afterEach(() => vi.restoreAllMocks());

describe('SplitDeviceQueue: popping chains', () => {
  it('pops a direct chain with readable then writable segments and their totals', () => {
    const r = new RawSplitRing();
    r.desc(3, DATA, 16, N, 5);
    r.desc(5, DATA + 0x100, 100, N | W, 1);
    r.desc(1, DATA + 0x200, 1, W);
    r.offer(3);
    const c = r.dev.pop()!;
    expect(c.id).toBe(3);
    expect(c.readable).toEqual([{ addr: DATA, len: 16 }]);
    expect(c.writable).toEqual([
      { addr: DATA + 0x100, len: 100 },
      { addr: DATA + 0x200, len: 1 },
    ]);
    expect(c.readableLength).toBe(16);
    expect(c.writableLength).toBe(101);
    expect(r.dev.inFlight).toBe(1);
    expect(r.dev.pop()).toBeNull();
  });

  it('[split.dev.1] accepts any arrangement of descriptors: any indices, order, and segment split', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...Array(16).keys()], { minLength: 1, maxLength: 16 }),
        fc.integer({ min: 0, max: 16 }),
        fc.array(fc.integer({ min: 0, max: 64 }), { minLength: 16, maxLength: 16 }),
        (order, split, lens) => {
          const r = new RawSplitRing(16, NO_FEATURES);
          const nRead = Math.min(split, order.length);
          order.forEach((d, k) => {
            const more = k + 1 < order.length;
            r.desc(d, DATA + 0x100 * k, lens[k], (k >= nRead ? W : 0) | (more ? N : 0), more ? order[k + 1] : 0);
          });
          r.offer(order[0]);
          const c = r.dev.pop()!;
          expect(c.id).toBe(order[0]);
          expect(c.readable.length).toBe(nRead);
          expect(c.writable.length).toBe(order.length - nRead);
          expect(c.readableLength + c.writableLength).toBe(lens.slice(0, order.length).reduce((a, b) => a + b, 0));
        },
      ),
    );
  });

  it('pops an indirect chain', () => {
    const r = new RawSplitRing();
    const table = DATA + 0x8000;
    r.desc(0, DATA, 8, N, 1, table);
    r.desc(1, DATA + 0x10, 8, W, 0, table);
    r.desc(2, table, 32, I);
    r.offer(2);
    const c = r.dev.pop()!;
    expect(c.id).toBe(2);
    expect(c.readable).toEqual([{ addr: DATA, len: 8 }]);
    expect(c.writable).toEqual([{ addr: DATA + 0x10, len: 8 }]);
  });

  it('[split.dev.3] ignores VIRTQ_DESC_F_WRITE on the descriptor that refers to an indirect table', () => {
    const r = new RawSplitRing();
    const table = DATA + 0x8000;
    r.desc(0, DATA, 8, 0, 0, table);
    r.desc(0, table, 16, I | W);
    r.offer(0);
    const c = r.dev.pop()!;
    expect(c.readable).toEqual([{ addr: DATA, len: 8 }]);
    expect(c.writable).toEqual([]);
  });

  it('[split.dev.4] handles normal chained descriptors followed by one indirect descriptor', () => {
    const r = new RawSplitRing();
    const table = DATA + 0x8000;
    r.desc(0, DATA + 0x20, 4, N, 1, table);
    r.desc(1, DATA + 0x30, 4, W, 0, table);
    r.desc(6, DATA, 12, N, 4);
    r.desc(4, DATA + 0x10, 4, N, 7);
    r.desc(7, table, 32, I);
    r.offer(6);
    const c = r.dev.pop()!;
    expect(c.readable.map((s) => s.addr)).toEqual([DATA, DATA + 0x10, DATA + 0x20]);
    expect(c.writable.map((s) => s.addr)).toEqual([DATA + 0x30]);
    expect(c.readableLength).toBe(20);
  });

  it('[split.dev.12] handles spurious notifications: popping an empty ring changes nothing', () => {
    const r = new RawSplitRing();
    const before = r.mem.view(USED, 6 + 8 * r.size).slice();
    for (let k = 0; k < 3; k++) expect(r.dev.pop()).toBeNull();
    expect(r.dev.needsNotification()).toBe(false);
    expect(r.mem.view(USED, 6 + 8 * r.size)).toEqual(before);
    r.desc(0, DATA, 1, W);
    r.offer(0);
    expect(r.dev.pop()!.id).toBe(0);
  });
});

describe('SplitDeviceQueue: used ring', () => {
  it('[split.dev.7] [split.dev.8] writes id and len, and the data, before it publishes the used idx', () => {
    const r = new RawSplitRing();
    r.desc(2, DATA, 64, W);
    r.offer(2);
    const c = r.dev.pop()!;
    const w = new ChainWriter(r.mem, c.writable);
    w.write(new Uint8Array([1, 2, 3, 4, 5]));
    const seen: { id: number; len: number; data: number }[] = [];
    const store = Atomics.store;
    vi.spyOn(Atomics, 'store').mockImplementation(((ta: Uint16Array, index: number, value: number) => {
      if (ta.byteOffset === USED && index === 1) seen.push({ ...r.usedElem(0), data: r.mem.readU8(DATA + 4) });
      return store(ta, index, value);
    }) as typeof Atomics.store);
    r.dev.push(c, w.written);
    expect(seen).toEqual([]);
    r.dev.needsNotification();
    expect(seen).toEqual([{ id: 2, len: 5, data: 5 }]);
    expect(r.usedIdx()).toBe(1);
  });

  it('[split.dev.8] refuses a used len larger than the writable bytes of the chain', () => {
    const r = new RawSplitRing();
    r.desc(0, DATA, 8, N, 1);
    r.desc(1, DATA + 8, 4, W);
    r.offer(0);
    const c = r.dev.pop()!;
    expect(() => r.dev.push(c, 5)).toThrow(expect.objectContaining({ code: 'bad-used-len' }));
    expect(r.usedIdx()).toBe(0);
    r.dev.push(c, 4);
    expect(r.usedElem(0)).toEqual({ id: 0, len: 4 });
  });

  it('[split.dev.2] never writes the descriptor table, the available ring or device-readable buffers', () => {
    const r = new RawSplitRing(8);
    r.mem.view(DATA, 0x100).fill(0xa5);
    r.desc(0, DATA, 0x40, N, 1);
    r.desc(1, DATA + 0x40, 0x40, W);
    r.offer(0);
    const table = r.mem.view(DESC, 16 * 8).slice();
    const avail = r.mem.view(AVAIL, 6 + 2 * 8).slice();
    const c = r.dev.pop()!;
    const w = new ChainWriter(r.mem, c.writable);
    w.write(new Uint8Array(0x40));
    expect(() => w.writeU8(1)).toThrow();
    r.dev.push(c, w.written);
    r.dev.needsNotification();
    r.dev.enableNotifications();
    r.dev.disableNotifications();
    expect(r.mem.view(DESC, 16 * 8)).toEqual(table);
    expect(r.mem.view(AVAIL, 6 + 2 * 8)).toEqual(avail);
    expect(r.mem.view(DATA, 0x40).every((b) => b === 0xa5)).toBe(true);
  });

  it('keeps the used idx in a shadow: a driver scribbling on it does not move the device', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.desc(0, DATA, 4, W);
    r.desc(1, DATA, 4, W);
    r.offer(0, 1);
    r.dev.push(r.dev.pop()!, 1);
    r.dev.needsNotification();
    r.mem.writeU16(USED + 2, 500);
    r.dev.push(r.dev.pop()!, 2);
    r.dev.needsNotification();
    expect(r.usedIdx()).toBe(2);
    expect(r.usedElem(1)).toEqual({ id: 1, len: 2 });
  });

  it('refuses to push a chain twice or one it never popped', () => {
    const r = new RawSplitRing();
    r.desc(0, DATA, 8, W);
    r.offer(0);
    const c = r.dev.pop()!;
    r.dev.push(c, 0);
    expect(() => r.dev.push(c, 0)).toThrow(expect.objectContaining({ code: 'bad-used-id' }));
    const forged = { id: 1, readable: [], writable: [], readableLength: 0, writableLength: 0 };
    expect(() => r.dev.push(forged, 0)).toThrow(VirtqueueError);
    expect(r.dev.inFlight).toBe(0);
  });

  it('[basic.dev.21] with VIRTIO_F_IN_ORDER uses buffers in the order they were made available', () => {
    const r = new RawSplitRing(8, { ...NO_FEATURES, inOrder: true });
    for (let d = 0; d < 3; d++) r.desc(d, DATA + 16 * d, 16, W);
    r.offer(0, 1, 2);
    const [a, b, c] = [r.dev.pop()!, r.dev.pop()!, r.dev.pop()!];
    expect(() => r.dev.push(b, 0)).toThrow(expect.objectContaining({ code: 'bad-used-id' }));
    r.dev.push(a, 1);
    r.dev.push(b, 2);
    r.dev.push(c, 3);
    expect([0, 1, 2].map((i) => r.usedElem(i).id)).toEqual([0, 1, 2]);
  });

  it('pushes chains out of order without VIRTIO_F_IN_ORDER', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    for (let d = 0; d < 3; d++) r.desc(d, DATA + 16 * d, 16, W);
    r.offer(0, 1, 2);
    const [a, b, c] = [r.dev.pop()!, r.dev.pop()!, r.dev.pop()!];
    r.dev.push(c, 0);
    r.dev.push(a, 0);
    r.dev.push(b, 0);
    expect([0, 1, 2].map((i) => r.usedElem(i).id)).toEqual([2, 0, 1]);
  });
});

describe('SplitDeviceQueue: notifications', () => {
  function pushOne(r: RawSplitRing, d: number): void {
    r.desc(d, DATA, 4, W);
    r.offer(d);
    r.dev.push(r.dev.pop()!, 0);
  }

  it('[split.dev.5] without VIRTIO_F_EVENT_IDX notifies exactly when the available flags are 0, ignoring used_event', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.setUsedEvent(100);
    pushOne(r, 0);
    expect(r.dev.needsNotification()).toBe(true);
    r.setAvailFlags(1);
    pushOne(r, 1);
    expect(r.dev.needsNotification()).toBe(false);
    r.setAvailFlags(0);
    r.setUsedEvent(0);
    pushOne(r, 2);
    pushOne(r, 3);
    expect(r.dev.needsNotification()).toBe(true);
    expect(r.dev.needsNotification()).toBe(false);
  });

  it('[split.dev.6] with VIRTIO_F_EVENT_IDX notifies exactly when the used idx passes used_event, ignoring the flags bit', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 12 }), fc.boolean()), { maxLength: 20 }), (steps) => {
        const r = new RawSplitRing(8, { ...NO_FEATURES, eventIdx: true });
        let used = 0;
        for (const [n, ahead, flag] of steps) {
          const old = used;
          const event = (old + ahead) & 0xffff;
          r.setUsedEvent(event);
          r.setAvailFlags(flag ? 1 : 0);
          for (let k = 0; k < n; k++) pushOne(r, (used + k) % 8);
          used += n;
          const mustNotify = n > 0 && ahead < n;
          expect(r.dev.needsNotification()).toBe(mustNotify);
        }
      }),
    );
  });

  it('[split.dev.10] without VIRTIO_F_EVENT_IDX sets the used flags to 0 or 1 only', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.dev.disableNotifications();
    expect(r.usedFlags()).toBe(1);
    expect(r.dev.enableNotifications()).toBe(false);
    expect(r.usedFlags()).toBe(0);
  });

  it('[split.dev.11] with VIRTIO_F_EVENT_IDX keeps the used flags 0 and asks via avail_event', () => {
    const r = new RawSplitRing(8, ALL_FEATURES);
    r.dev.disableNotifications();
    expect(r.usedFlags()).toBe(0);
    r.desc(0, DATA, 4, W);
    r.desc(1, DATA, 4, W);
    r.offer(0, 1);
    r.dev.pop();
    expect(r.dev.enableNotifications()).toBe(true);
    expect(r.availEvent()).toBe(1);
    r.dev.pop();
    expect(r.availEvent()).toBe(2);
    expect(r.dev.enableNotifications()).toBe(false);
    expect(r.usedFlags()).toBe(0);
  });

  it('enableNotifications re-checks for buffers that arrived while notifications were off (no lost wakeup)', () => {
    for (const features of [NO_FEATURES, ALL_FEATURES]) {
      const r = new RawSplitRing(8, features);
      r.dev.disableNotifications();
      r.desc(0, DATA, 4, W);
      r.offer(0);
      expect(r.dev.enableNotifications()).toBe(true);
      expect(r.dev.pop()!.id).toBe(0);
      expect(r.dev.enableNotifications()).toBe(false);
    }
  });
});

describe('SplitDeviceQueue: queue reset', () => {
  it('[basic.dev.10] returns to the default available and used state', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.desc(0, DATA, 4, W);
    r.offer(0, 0);
    r.dev.push(r.dev.pop()!, 1);
    r.dev.disableNotifications();
    r.dev.reset();
    expect(r.dev.inFlight).toBe(0);
    // The driver re-initialises the rings (zeroed), then offers again from index 0.
    r.mem.view(AVAIL, 6 + 16).fill(0);
    r.mem.view(USED, 6 + 64).fill(0);
    r.availIdx = 0;
    r.desc(3, DATA, 4, W);
    r.offer(3);
    const c = r.dev.pop()!;
    expect(c.id).toBe(3);
    r.dev.push(c, 2);
    r.dev.needsNotification();
    expect(r.usedIdx()).toBe(1);
    expect(r.usedElem(0)).toEqual({ id: 3, len: 2 });
    expect(r.dev.enableNotifications()).toBe(false);
  });

  it('[basic.dev.9] after a reset, completing a chain popped before it touches nothing and notifies nobody', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.desc(0, DATA, 4, W);
    r.offer(0);
    const stale = r.dev.pop()!;
    r.dev.reset();
    const used = r.mem.view(USED, 6 + 64).slice();
    r.dev.push(stale, 4);
    expect(r.mem.view(USED, 6 + 64)).toEqual(used);
    expect(r.dev.needsNotification()).toBe(false);
  });
});

describe('SplitDeviceQueue: configuration', () => {
  it('rejects misaligned ring parts and sizes that are not a power of two', () => {
    const r = new RawSplitRing();
    const bad = (o: object) => {
      try {
        new (r.dev.constructor as new (...a: unknown[]) => unknown)(r.mem, { ...r.config, ...o });
      } catch (e) {
        return (e as VirtqueueError).code;
      }
      return 'accepted';
    };
    expect(bad({ descTable: DESC + 8 })).toBe('bad-queue-config');
    expect(bad({ driverArea: AVAIL + 1 })).toBe('bad-queue-config');
    expect(bad({ deviceArea: USED + 2 })).toBe('bad-queue-config');
    expect(bad({ size: 12 })).toBe('bad-queue-config');
    expect(bad({ size: 65536 })).toBe('bad-queue-config');
    expect(bad({ deviceArea: 0xffff8 })).toBe('address-out-of-range');
    expect(bad({ size: 32768 })).toBe('accepted');
  });
});

describe('SplitDeviceQueue over memory with a hole', () => {
  it('serves rings in high memory and a buffer that spans two adjacent regions', () => {
    const mem = new RegionGuestMemory([
      { base: 0, bytes: new ArrayBuffer(0x10000) },
      { base: 0x10000, bytes: new ArrayBuffer(0x10000) },
      { base: 0x1_0000_0000, bytes: new SharedArrayBuffer(0x10000) },
    ]);
    const drv = new SplitDriverQueue<string>(mem, new BumpAllocator(0x1_0000_0000, 0x10000), { size: 16, features: ALL_FEATURES });
    const dev = new SplitDeviceQueue(mem, drv.config);
    mem.write(0xfffc, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    drv.add([{ addr: 0xfffc, len: 8 }], [{ addr: 0x1_0000_8000, len: 8 }], 'x');
    drv.kick();
    const c = dev.pop()!;
    const r = new ChainReader(mem, c.readable);
    expect(r.readView(8).map((v) => v.byteLength)).toEqual([4, 4]);
    new ChainWriter(mem, c.writable).writeU64(0x1122334455667788n);
    dev.push(c, 8);
    dev.needsNotification();
    expect(drv.reap()).toEqual({ token: 'x', len: 8 });
    expect(mem.readU64(0x1_0000_8000)).toBe(0x1122334455667788n);
  });
});
