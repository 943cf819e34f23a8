import { afterEach, describe, expect, it, vi } from 'vitest';
import { BumpAllocator } from '../src/alloc/bump.js';
import { FlatGuestMemory } from '../src/memory/flat.js';
import { PackedDriverQueue } from '../src/packed/driver-queue.js';
import { createDeviceQueue, createDriverQueue } from '../src/queue/factory.js';
import type { GuestAllocator } from '../src/queue/types.js';
import { AVAIL, INDIRECT, NEXT, RawRing, USED, WRITE, buf, descBytes, features, packedPair } from './packed-fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('packed ring: driver and device on one ring', () => {
  it('moves a buffer from driver to device and back', () => {
    const { driver, device } = packedPair(8);
    expect(driver.add([buf(0, 10)], [buf(1, 20), buf(2, 30)], 7)).toBe(true);
    expect(device.pop()).toBeNull();
    driver.kick();
    const c = device.pop()!;
    expect(c.readable).toEqual([buf(0, 10)]);
    expect(c.writable).toEqual([buf(1, 20), buf(2, 30)]);
    expect([c.readableLength, c.writableLength]).toEqual([10, 50]);
    expect(device.inFlight).toBe(1);
    expect(driver.numFree).toBe(5);
    device.push(c, 33);
    expect(device.needsNotification()).toBe(true);
    expect(driver.reap()).toEqual({ token: 7, len: 33 });
    expect(driver.reap()).toBeNull();
    expect(driver.numFree).toBe(8);
    expect(device.inFlight).toBe(0);
  });

  it('is what the factory builds when VIRTIO_F_RING_PACKED is negotiated', () => {
    const memory = new FlatGuestMemory(new ArrayBuffer(1 << 16));
    const driver = createDriverQueue<string>(memory, new BumpAllocator(0, 1 << 16), { size: 3, packed: true, features: features() });
    const device = createDeviceQueue(memory, driver.config);
    expect([driver.config.packed, device.packed, device.size]).toEqual([true, true, 3]);
    driver.add([{ addr: 0x8000, len: 4 }], [], 'x');
    driver.kick();
    device.push(device.pop()!, 0);
    device.needsNotification();
    expect(driver.reap()).toEqual({ token: 'x', len: 0 });
  });

  for (const size of [1, 3, 5, 7, 256]) {
    it(`wraps around many laps with lists of mixed length (size ${size}, not a power of two)`, () => {
      const { driver, device } = packedPair(size);
      let next = 0;
      let reaped = 0;
      const lens = new Map<number, number>();
      for (let step = 0; step < 40 * size + 50; step++) {
        const n = 1 + (step % Math.min(3, size));
        const out = Array.from({ length: n - 1 }, (_, k) => buf(k, 8));
        if (driver.add(out, [buf(9, 100 + (step % 50))], next)) {
          lens.set(next, 100 + (step % 50));
          next++;
        }
        driver.kick();
        for (let c = device.pop(); c !== null; c = device.pop()) {
          expect(c.readable.every((seg) => seg.len === 8)).toBe(true);
          device.push(c, c.writableLength - 1);
        }
        device.needsNotification();
        for (let u = driver.reap(); u !== null; u = driver.reap()) {
          expect(u.token).toBe(reaped);
          expect(u.len).toBe(lens.get(u.token)! - 1);
          reaped++;
        }
      }
      expect(reaped).toBe(next);
      expect(next).toBeGreaterThan(20 * size);
      expect(driver.numFree).toBe(size);
    });
  }

  it('driver: clamps a used length beyond the buffer\'s writable bytes, and refuses an id not in flight', () => {
    const { driver, device, memory } = packedPair(4);
    driver.add([buf(0)], [buf(1, 40)], 0);
    driver.add([buf(0)], [buf(1, 40)], 1);
    driver.kick();
    device.push(device.pop()!, 5);
    device.needsNotification();
    memory.writeU32(driver.config.descTable + 8, 0xffff_ffff);
    expect(driver.reap()).toEqual({ token: 0, len: 40 });
    device.push(device.pop()!, 5);
    device.needsNotification();
    memory.writeU16(driver.config.descTable + 16 * 2 + 12, 3); // the device names a free id
    expect(() => driver.reap()).toThrow(/bad-used-id/);
  });

  it('runs the largest queue, 32768 descriptors, for two laps', () => {
    const size = 32768;
    const { driver, device } = packedPair(size, {}, 8 << 20);
    for (let lap = 0; lap < 2; lap++) {
      let wrong = 0;
      for (let t = 0; t < size; t++) if (!driver.add([], [buf(t % 16, 4)], t)) wrong++;
      expect(driver.add([], [buf(0)], -1)).toBe(false);
      driver.kick();
      for (let t = 0; t < size; t++) device.push(device.pop()!, t & 3);
      expect(device.pop()).toBeNull();
      device.needsNotification();
      for (let t = 0; t < size; t++) {
        const u = driver.reap();
        if (u?.token !== t || u.len !== (t & 3)) wrong++;
      }
      expect(driver.reap()).toBeNull();
      expect(wrong).toBe(0);
    }
  });

  it('[packed.dev.1] starts buffers in ring order and writes used descriptors in completion order', () => {
    const { driver, device, memory } = packedPair(4);
    for (const t of [10, 11, 12]) driver.add([], [buf(t)], t);
    driver.kick();
    const [a, b, c] = [device.pop()!, device.pop()!, device.pop()!];
    expect([a.writable[0], b.writable[0], c.writable[0]]).toEqual([buf(10), buf(11), buf(12)]);
    device.push(c, 1);
    device.push(a, 2);
    device.push(b, 3);
    // Used descriptors fill the ring from the device's position in the order pushed.
    const ids = [0, 1, 2].map((i) => new DataView(descBytes(memory, driver.config, i).buffer).getUint16(12, true));
    expect(ids).toEqual([c.id, a.id, b.id]);
    device.needsNotification();
    expect([driver.reap(), driver.reap(), driver.reap()].map((u) => u!.token)).toEqual([12, 10, 11]);
  });

  it('[packed.dev.3] uses the descriptors of a VIRTQ_DESC_F_NEXT list in order, across the end of the ring', () => {
    const { driver, device } = packedPair(5);
    driver.add([buf(0)], [buf(1)], 0);
    driver.add([buf(2)], [buf(3)], 1);
    driver.kick();
    device.push(device.pop()!, 0);
    device.push(device.pop()!, 0);
    device.needsNotification();
    driver.reap();
    driver.reap();
    // Slots 4, 0, 1, 2: the list wraps; the device must follow it in order.
    expect(driver.add([buf(20), buf(21)], [buf(22), buf(23)], 2)).toBe(true);
    driver.kick();
    const c = device.pop()!;
    expect(c.readable).toEqual([buf(20), buf(21)]);
    expect(c.writable).toEqual([buf(22), buf(23)]);
  });

  it('resolves indirect tables, and keeps each buffer id\'s table for reuse', () => {
    const { driver, device, allocator } = packedPair(6, { indirectDesc: true });
    const before = allocator.freeBytes;
    expect(driver.add([buf(0), buf(1)], [buf(2), buf(3), buf(4)], 1)).toBe(true);
    expect(driver.numFree).toBe(5); // one ring slot for five elements
    expect(allocator.freeBytes).toBe(before - 5 * 16);
    driver.kick();
    const c = device.pop()!;
    expect(c.readable).toEqual([buf(0), buf(1)]);
    expect(c.writable).toEqual([buf(2), buf(3), buf(4)]);
    device.push(c, 700);
    device.needsNotification();
    expect(driver.reap()).toEqual({ token: 1, len: 700 });
    // The same id comes back with a smaller buffer: its table is reused, nothing allocated.
    expect(driver.add([buf(5)], [buf(6)], 2)).toBe(true);
    expect(allocator.freeBytes).toBe(before - 5 * 16);
    // A bigger one replaces it.
    driver.kick();
    device.push(device.pop()!, 0);
    device.needsNotification();
    driver.reap();
    expect(driver.add([buf(0), buf(1), buf(2)], [buf(3), buf(4), buf(5)], 3)).toBe(true);
    expect(allocator.freeBytes).toBe(before - 6 * 16);
    driver.kick();
    const d = device.pop()!;
    expect(d.readable).toEqual([buf(0), buf(1), buf(2)]);
    expect(d.writable).toEqual([buf(3), buf(4), buf(5)]);
  });

  it('mixes indirect tables and descriptor lists in one ring', () => {
    const { driver, device } = packedPair(4, { indirectDesc: true });
    driver.add([buf(0)], [buf(1)], 0, { indirect: false });
    driver.add([buf(2)], [buf(3)], 1);
    driver.add([buf(4)], [], 2);
    driver.kick();
    expect(driver.numFree).toBe(0);
    const got = [device.pop()!, device.pop()!, device.pop()!];
    expect(got.map((c) => [...c.readable, ...c.writable])).toEqual([[buf(0), buf(1)], [buf(2), buf(3)], [buf(4)]]);
  });

  it('[packed.drv.8] sets VIRTQ_DESC_F_INDIRECT only with VIRTIO_F_INDIRECT_DESC, and only WRITE inside a table', () => {
    const plain = packedPair(4);
    expect(() => plain.driver.add([buf(0)], [buf(1)], 0, { indirect: true })).toThrow(/indirect-not-negotiated/);
    plain.driver.add([buf(0)], [buf(1)], 0);
    plain.driver.kick();
    for (let i = 0; i < 2; i++) expect(new DataView(descBytes(plain.memory, plain.driver.config, i).buffer).getUint16(14, true) & INDIRECT).toBe(0);

    const ind = packedPair(4, { indirectDesc: true });
    ind.driver.add([buf(0)], [buf(1), buf(2)], 0);
    ind.driver.kick();
    const ring = new DataView(descBytes(ind.memory, ind.driver.config, 0).buffer);
    expect(ring.getUint16(14, true) & INDIRECT).toBe(INDIRECT);
    const table = Number(ring.getBigUint64(0, true));
    const tableFlags = [0, 1, 2].map((k) => ind.memory.readU16(table + 16 * k + 14));
    expect(tableFlags).toEqual([0, WRITE, WRITE]);
  });

  it('[packed.drv.10] never puts an indirect descriptor into a VIRTQ_DESC_F_NEXT list', () => {
    const { driver, memory } = packedPair(8, { indirectDesc: true });
    driver.add([buf(0)], [buf(1)], 0, { indirect: true });
    driver.add([buf(2)], [buf(3)], 1, { indirect: false });
    driver.add([buf(4), buf(5)], [], 2, { indirect: true });
    driver.kick();
    const flags = [0, 1, 2, 3].map((i) => new DataView(descBytes(memory, driver.config, i).buffer).getUint16(14, true));
    expect(flags.map((f) => f & (INDIRECT | NEXT))).toEqual([INDIRECT, NEXT, 0, INDIRECT]);
  });
});

describe('packed ring: driver requirements', () => {
  it('[packed.drv.1] aligns the descriptor ring to 16 and both event suppression structures to 4', () => {
    // An allocator that starts every block at an odd address unless alignment is asked for.
    const asked: number[] = [];
    let next = 0x1001;
    const allocator: GuestAllocator = {
      alloc(len, align) {
        asked.push(align);
        const addr = Math.ceil(next / align) * align;
        next = addr + len + 1;
        return addr;
      },
      free() {},
    };
    const driver = new PackedDriverQueue(new FlatGuestMemory(new ArrayBuffer(1 << 16)), allocator, { size: 5, packed: true, features: features() });
    expect(driver.config.descTable % 16).toBe(0);
    expect(driver.config.driverArea % 4).toBe(0);
    expect(driver.config.deviceArea % 4).toBe(0);
    expect(asked).toEqual([16, 4, 4]);
  });

  it('[packed.drv.2] changes no descriptor the device has not used, and notifies with next_off/next_wrap', () => {
    const { driver, device, memory } = packedPair(3);
    expect(driver.notificationData).toBe(0x8000); // next_off 0, next_wrap 1
    driver.add([], [buf(0)], 0);
    driver.add([], [buf(1)], 1);
    driver.kick();
    expect(driver.notificationData).toBe(0x8000 | 2);
    const first = device.pop()!;
    device.pop();
    const inFlight = descBytes(memory, driver.config, 1);
    device.push(first, 5);
    device.needsNotification();
    expect(driver.reap()?.token).toBe(0);
    // Slot 0 came back, slot 1 is still in flight: filling the ring must reuse 2 and 0 only.
    expect(driver.add([], [buf(2)], 2)).toBe(true);
    expect(driver.add([], [buf(3)], 3)).toBe(true);
    expect(driver.add([], [buf(4)], 4)).toBe(false);
    driver.kick();
    expect(descBytes(memory, driver.config, 1)).toEqual(inFlight);
    expect(driver.notificationData).toBe(1); // next_off 1, next_wrap 0 (wrapped once)
  });

  it('[packed.drv.3] [packed.drv.9] creates no list longer than the device allows', () => {
    const memory = new FlatGuestMemory(new ArrayBuffer(1 << 21));
    for (const indirectDesc of [false, true]) {
      const driver = new PackedDriverQueue(memory, new BumpAllocator(0x1000, 1 << 16), { size: 16, packed: true, features: features({ indirectDesc }), maxSegments: 3 });
      expect(() => driver.add([buf(0), buf(1)], [buf(2), buf(3)], 0)).toThrow(RangeError);
      expect(driver.numFree).toBe(16);
      expect(driver.add([buf(0), buf(1)], [buf(2)], 0)).toBe(true);
    }
  });

  it('[packed.drv.4] creates no list longer than the queue size, direct or indirect', () => {
    for (const indirectDesc of [false, true]) {
      const { driver } = packedPair(4, { indirectDesc });
      const five = [0, 1, 2, 3, 4].map((k) => buf(k));
      expect(() => driver.add(five, [], 0)).toThrow(RangeError);
      expect(driver.numFree).toBe(4);
      expect(driver.add(five.slice(0, 4), [], 0)).toBe(true);
    }
  });

  it('[packed.drv.5] places device-writable elements after device-readable ones', () => {
    const { driver, memory } = packedPair(8);
    driver.add([buf(0), buf(1)], [buf(2), buf(3)], 0);
    driver.kick();
    const flags = [0, 1, 2, 3].map((i) => new DataView(descBytes(memory, driver.config, i).buffer).getUint16(14, true) & WRITE);
    expect(flags).toEqual([0, 0, WRITE, WRITE]);
  });

  it('[packed.drv.6] makes nothing available unless the whole list fits', () => {
    const { driver, device, memory } = packedPair(4);
    driver.add([buf(0)], [buf(1)], 0);
    const snapshot = memory.view(driver.config.descTable, 64).slice();
    expect(driver.add([buf(2)], [buf(3), buf(4)], 1)).toBe(false);
    expect(memory.view(driver.config.descTable, 64)).toEqual(snapshot);
    expect(driver.numFree).toBe(2);
    driver.kick();
    expect(device.pop()!.writable).toEqual([buf(1)]);
    expect(device.pop()).toBeNull();
  });

  it('[packed.drv.7] makes the first descriptor of a list available after all the others', () => {
    const { driver, device, memory } = packedPair(8);
    const flagsAt = (i: number) => memory.readU16(driver.config.descTable + 16 * i + 14);
    driver.add([buf(0)], [buf(1), buf(2)], 0);
    // Written but not yet exposed: the device sees nothing until kick.
    expect(device.pop()).toBeNull();
    const stores: number[][] = [];
    const store = Atomics.store;
    vi.spyOn(Atomics, 'store').mockImplementation(((ta: Uint16Array, i: number, v: number) => {
      const r = store(ta, i, v);
      stores.push([0, 1, 2].map(flagsAt));
      return r;
    }) as typeof Atomics.store);
    driver.kick();
    // The store that exposes the head is the one after which all three are available.
    const headStore = stores.findIndex((s) => (s[0] & (AVAIL | USED)) === AVAIL);
    expect(headStore).toBeGreaterThanOrEqual(0);
    expect(stores[headStore].map((f) => f & (AVAIL | USED))).toEqual([AVAIL, AVAIL, AVAIL]);
    expect(device.pop()!.writable).toEqual([buf(1), buf(2)]);
  });

  it('[packed.drv.11] stores flags atomically, after the descriptor addr, len and id are in place', () => {
    const { driver, memory } = packedPair(8);
    const ring = driver.config.descTable;
    const seen: { addr: bigint; len: number; id: number }[] = [];
    const store = Atomics.store;
    vi.spyOn(Atomics, 'store').mockImplementation(((ta: Uint16Array, i: number, v: number) => {
      // A flags word of the descriptor ring: word 8k + 7 of a view starting at the ring.
      if (ta.byteLength === 16 * 8 && i % 8 === 7) {
        const d = ring + 16 * ((i - 7) / 8);
        seen.push({ addr: memory.readU64(d), len: memory.readU32(d + 8), id: memory.readU16(d + 12) });
      }
      return store(ta, i, v);
    }) as typeof Atomics.store);
    driver.add([buf(3, 11)], [buf(4, 12)], 0);
    driver.add([buf(5, 13)], [], 1);
    driver.kick();
    expect(seen).toHaveLength(3);
    expect(seen).toContainEqual({ addr: BigInt(buf(3).addr), len: 11, id: 0 });
    expect(seen).toContainEqual({ addr: BigInt(buf(4).addr), len: 12, id: 0 });
    expect(seen).toContainEqual({ addr: BigInt(buf(5).addr), len: 13, id: 1 });
  });
});

describe('packed ring: device requirements', () => {
  it('[packed.dev.2] uses a descriptor only once its VIRTQ_DESC_F_AVAIL bit changed', () => {
    const r = new RawRing(2);
    const dev = r.device();
    expect(dev.pop()).toBeNull(); // zero-initialized ring
    r.desc(0, 0x4000, 16, 0, USED | AVAIL, 0); // AVAIL == USED: a used descriptor
    r.memory.writeU16(0x1000 + 14, AVAIL | USED);
    expect(dev.pop()).toBeNull();
    r.desc(0, 0x4000, 16, 0, 0, 0); // available for the second lap, not the first
    expect(dev.pop()).toBeNull();
    r.desc(0, 0x4000, 16, 0, 0, 1);
    expect(dev.pop()!.readable).toEqual([{ addr: 0x4000, len: 16 }]);
    // Lap 2: the slot still shows lap 1's AVAIL bit until the driver flips it.
    r.desc(1, 0x4100, 16, 1, 0, 1);
    dev.pop();
    expect(dev.pop()).toBeNull();
  });

  it('[packed.dev.2] writes no buffer, and never changes a used descriptor afterwards', () => {
    const { driver, device, memory } = packedPair(4, { inOrder: false });
    const all = memory.view(0, 4 << 20);
    for (let k = 0; k < 8; k++) memory.write(buf(k).addr, new Uint8Array(256).fill(0xa5));
    driver.add([buf(0)], [buf(1)], 0);
    driver.add([buf(2)], [buf(3)], 1);
    driver.kick();
    const a = device.pop()!;
    const b = device.pop()!;
    const before = all.slice();
    device.push(b, 10);
    device.needsNotification();
    const used0 = descBytes(memory, driver.config, 0);
    device.push(a, 0);
    device.needsNotification();
    expect(descBytes(memory, driver.config, 0)).toEqual(used0);
    // Only descriptor ring bytes changed: no buffer byte was written by the queue.
    const ringStart = driver.config.descTable;
    for (let i = 0; i < all.length; i++) {
      if (all[i] !== before[i]) expect(i >= ringStart && i < ringStart + 64).toBe(true);
    }
  });

  it('[packed.dev.2] writes the used descriptor id and len before its flags', () => {
    const { driver, device, memory } = packedPair(4);
    driver.add([], [buf(0)], 0);
    driver.kick();
    const c = device.pop()!;
    const d = driver.config.descTable;
    const seen: number[][] = [];
    const store = Atomics.store;
    vi.spyOn(Atomics, 'store').mockImplementation(((ta: Uint16Array, i: number, v: number) => {
      seen.push([memory.readU16(d + 12), memory.readU32(d + 8)]);
      return store(ta, i, v);
    }) as typeof Atomics.store);
    device.push(c, 99);
    expect(seen).toEqual([]); // published at the end of the batch
    device.needsNotification();
    expect(seen[0]).toEqual([c.id, 99]);
    expect(driver.reap()).toEqual({ token: 0, len: 99 });
  });

  it('marks a used descriptor VIRTQ_DESC_F_WRITE only when data was written', () => {
    const { driver, device } = packedPair(4);
    driver.add([buf(0)], [buf(1)], 0);
    driver.add([buf(0)], [], 1);
    driver.kick();
    device.push(device.pop()!, 0);
    device.push(device.pop()!, 0);
    device.needsNotification();
    expect(driver.reap()).toEqual({ token: 0, len: 0 });
    expect(driver.reap()).toEqual({ token: 1, len: 0 });
  });

  it('ignores VIRTQ_DESC_F_WRITE on an indirect descriptor, and NEXT and ids inside the table', () => {
    const r = new RawRing(4, { indirectDesc: true });
    r.entry(0x8000, 0x4000, 16, 9, NEXT);
    r.entry(0x8010, 0x4100, 32, 9, NEXT | WRITE);
    r.desc(0, 0x8000, 32, 2, INDIRECT | WRITE);
    const c = r.device().pop()!;
    expect(c.id).toBe(2);
    expect(c.readable).toEqual([{ addr: 0x4000, len: 16 }]);
    expect(c.writable).toEqual([{ addr: 0x4100, len: 32 }]);
  });

  it('takes the buffer id from the last descriptor of a list', () => {
    const r = new RawRing(4);
    r.desc(1, 0x4100, 16, 3, WRITE);
    r.desc(0, 0x4000, 16, 1, NEXT);
    expect(r.device().pop()!.id).toBe(3);
  });

  it('[packed.dev.4] limits a list to the queue size', () => {
    const r = new RawRing(3);
    for (let i = 0; i < 3; i++) r.desc(i, 0x4000, 16, 0, NEXT);
    expect(() => r.device().pop()).toThrow(/chain-too-long/);
  });

  it('[basic.dev.10] reset returns the queue to its initial state', () => {
    const r = new RawRing(3);
    const dev = r.device();
    r.desc(0, 0x4000, 16, 0, 0);
    r.desc(1, 0x4100, 16, 1, 0);
    const a = dev.pop()!;
    dev.pop();
    dev.reset();
    expect(dev.inFlight).toBe(0);
    // Back at descriptor 0, wrap counter 1: the same descriptor is available again.
    const again = dev.pop()!;
    expect(again.readable).toEqual([{ addr: 0x4000, len: 16 }]);
    // A chain popped before the reset is dropped, not written.
    const usedBefore = r.flags(0);
    dev.push(a, 0);
    dev.needsNotification();
    expect(r.flags(0)).toBe(usedBefore);
    dev.push(again, 0);
    dev.needsNotification();
    expect(r.flags(0) & (AVAIL | USED)).toBe(AVAIL | USED);
  });
});

describe('packed ring: event suppression', () => {
  it('device: RING_EVENT_FLAGS_DISABLE stops available buffer notifications, ENABLE restarts them', () => {
    const { driver, device } = packedPair(8);
    driver.add([buf(0)], [], 0);
    expect(driver.kick()).toBe(true);
    device.disableNotifications();
    driver.add([buf(0)], [], 1);
    expect(driver.kick()).toBe(false);
    expect(device.enableNotifications()).toBe(true); // buffers arrived meanwhile
    driver.add([buf(0)], [], 2);
    expect(driver.kick()).toBe(true);
    expect(driver.kick()).toBe(false); // nothing new
  });

  it('device with VIRTIO_F_EVENT_IDX: notifies only when the named descriptor is made available', () => {
    const { driver, device } = packedPair(4, { eventIdx: true });
    expect(device.enableNotifications()).toBe(false);
    driver.add([buf(0)], [], 0);
    expect(driver.kick()).toBe(true); // covers descriptor 0, which the device named
    driver.add([buf(0)], [], 1);
    expect(driver.kick()).toBe(false); // device has not caught up: it named 0 still
    device.pop();
    device.pop(); // pop keeps the event at the next descriptor to read (2)
    driver.add([buf(0)], [buf(1)], 2);
    expect(driver.kick()).toBe(true);
    device.push(device.pop()!, 0);
    device.disableNotifications();
    device.needsNotification();
    driver.reap();
    driver.reap();
    driver.reap();
    driver.add([buf(0)], [], 3);
    expect(driver.kick()).toBe(false);
  });

  it('driver: RING_EVENT_FLAGS_DISABLE stops used buffer notifications, ENABLE restarts them', () => {
    const { driver, device } = packedPair(8);
    for (let t = 0; t < 3; t++) driver.add([buf(0)], [], t);
    driver.kick();
    device.push(device.pop()!, 0);
    expect(device.needsNotification()).toBe(true);
    expect(device.needsNotification()).toBe(false); // nothing used since
    driver.disableInterrupts();
    device.push(device.pop()!, 0);
    expect(device.needsNotification()).toBe(false);
    driver.reap();
    expect(driver.enableInterrupts()).toBe(true); // one arrived meanwhile
    driver.reap();
    expect(driver.enableInterrupts()).toBe(false);
    device.push(device.pop()!, 0);
    expect(device.needsNotification()).toBe(true);
  });

  it('driver with VIRTIO_F_EVENT_IDX: asks for the next used descriptor, and reap keeps it current', () => {
    const { driver, device } = packedPair(8, { eventIdx: true });
    driver.add([buf(0), buf(1), buf(2)], [], 0, { indirect: false });
    driver.add([buf(3)], [], 1);
    driver.add([buf(4)], [], 2);
    driver.kick();
    expect(driver.enableInterrupts()).toBe(false); // names descriptor 0
    const [a, b, c] = [device.pop()!, device.pop()!, device.pop()!];
    device.push(a, 0);
    expect(device.needsNotification()).toBe(true); // descriptors 0..2 used
    device.push(b, 0);
    expect(device.needsNotification()).toBe(false); // the driver has not reaped: it still names 0
    driver.reap();
    driver.reap(); // the event now names descriptor 4
    device.push(c, 0);
    expect(device.needsNotification()).toBe(true);
  });

  it('device with VIRTIO_F_EVENT_IDX: an event inside a list is covered when the list is used', () => {
    const r = new RawRing(8, { eventIdx: true });
    const dev = r.device();
    r.desc(1, 0x4100, 16, 0, NEXT);
    r.desc(2, 0x4200, 16, 0, NEXT);
    r.desc(0, 0x4000, 16, 0, NEXT);
    r.desc(3, 0x4300, 16, 0, 0);
    r.desc(4, 0x4400, 16, 1, 0);
    r.driverEvent(0x8000 | 2, 2); // RING_EVENT_FLAGS_DESC at descriptor 2, wrap 1
    const a = dev.pop()!;
    const b = dev.pop()!;
    dev.push(b, 0);
    expect(dev.needsNotification()).toBe(false); // slot 0 (b's used descriptor) only
    dev.push(a, 0);
    expect(dev.needsNotification()).toBe(true); // slots 1..4: covers 2
    r.driverEvent(0x0000 | 2, 2); // descriptor 2 of the next lap
    expect(dev.needsNotification()).toBe(false);
  });

  it('device with VIRTIO_F_EVENT_IDX: an event for the other lap is not covered', () => {
    const r = new RawRing(4, { eventIdx: true });
    const dev = r.device();
    r.desc(0, 0x4000, 16, 0, 0);
    r.driverEvent(0 /* descriptor 0, wrap 0: the second lap */, 2);
    dev.push(dev.pop()!, 0);
    expect(dev.needsNotification()).toBe(false);
    r.driverEvent(0x8000 | 1, 2);
    r.desc(1, 0x4000, 16, 1, 0);
    dev.push(dev.pop()!, 0);
    expect(dev.needsNotification()).toBe(true);
  });

  it('without VIRTIO_F_EVENT_IDX, RING_EVENT_FLAGS_DESC counts as enabled', () => {
    const r = new RawRing(4);
    const dev = r.device();
    r.desc(0, 0x4000, 16, 0, 0);
    r.driverEvent(0x8000 | 3, 2);
    dev.push(dev.pop()!, 0);
    expect(dev.needsNotification()).toBe(true);
  });

  it('device event suppression: ENABLE, DISABLE and DESC words as the spec lays them out', () => {
    const r = new RawRing(4, { eventIdx: true });
    const dev = r.device();
    r.desc(0, 0x4000, 16, 0, 0);
    dev.disableNotifications();
    expect(r.deviceEventFlags()).toBe(1);
    expect(dev.enableNotifications()).toBe(true);
    expect([r.deviceEventFlags(), r.deviceEventDesc()]).toEqual([2, 0x8000]);
    dev.pop();
    expect(r.deviceEventDesc()).toBe(0x8000 | 1);
    const p = new RawRing(4);
    const plain = p.device();
    plain.disableNotifications();
    expect(p.deviceEventFlags()).toBe(1);
    plain.enableNotifications();
    expect(p.deviceEventFlags()).toBe(0);
  });
});

describe('packed ring: VIRTIO_F_IN_ORDER', () => {
  it('returns a batch of fully written buffers as one used descriptor with the last id', () => {
    const { driver, device, memory } = packedPair(8, { inOrder: true });
    driver.add([buf(0)], [buf(1, 100)], 0);
    driver.add([buf(2)], [], 1);
    driver.add([], [buf(3, 50), buf(4, 50)], 2);
    driver.kick();
    const cs = [device.pop()!, device.pop()!, device.pop()!];
    device.push(cs[0], 100);
    device.push(cs[1], 0);
    device.push(cs[2], 100);
    expect(driver.reap()).toBeNull(); // written out at needsNotification
    expect(device.needsNotification()).toBe(true);
    const used = new DataView(descBytes(memory, driver.config, 0).buffer);
    expect(used.getUint16(12, true)).toBe(cs[2].id);
    for (const i of [2, 3, 4]) expect(new DataView(descBytes(memory, driver.config, i).buffer).getUint16(14, true) & USED).toBe(0);
    expect([driver.reap(), driver.reap(), driver.reap(), driver.reap()]).toEqual([
      { token: 0, len: 100 },
      { token: 1, len: 0 },
      { token: 2, len: 100 },
      null,
    ]);
    expect(driver.numFree).toBe(8);
  });

  it('ends a batch at a buffer that was not fully written', () => {
    const { driver, device } = packedPair(8, { inOrder: true });
    for (let t = 0; t < 3; t++) driver.add([], [buf(t, 64)], t);
    driver.kick();
    const cs = [device.pop()!, device.pop()!, device.pop()!];
    device.push(cs[0], 64);
    device.push(cs[1], 10); // partial: must be reported with its own length
    device.needsNotification();
    expect(driver.reap()).toEqual({ token: 0, len: 64 });
    expect(driver.reap()).toEqual({ token: 1, len: 10 });
    expect(driver.reap()).toBeNull();
    device.push(cs[2], 64);
    device.needsNotification();
    expect(driver.reap()).toEqual({ token: 2, len: 64 });
  });

  it('[basic.dev.21] refuses to use buffers out of the order they were made available', () => {
    const { driver, device } = packedPair(4, { inOrder: true });
    driver.add([], [buf(0)], 0);
    driver.add([], [buf(1)], 1);
    driver.kick();
    const a = device.pop()!;
    const b = device.pop()!;
    expect(() => device.push(b, 0)).toThrow(/bad-used-id/);
    device.push(a, 0);
    device.push(b, 0);
    device.needsNotification();
    expect([driver.reap()!.token, driver.reap()!.token]).toEqual([0, 1]);
  });
});
