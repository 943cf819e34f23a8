import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  BumpAllocator,
  FlatGuestMemory,
  SplitDeviceQueue,
  SplitDriverQueue,
  VIRTQ_DESC_F_INDIRECT as I,
  VIRTQ_DESC_F_NEXT as N,
  VIRTQ_DESC_F_WRITE as W,
  VirtqueueError,
  type RingFeatures,
  type Segment,
} from '../src/index.js';
import { NO_FEATURES } from './fixture.js';

afterEach(() => vi.restoreAllMocks());

const BUF = 0x80000;

function setup(size = 8, features: Partial<RingFeatures> = {}, mem = new FlatGuestMemory(new SharedArrayBuffer(0x100000))) {
  const drv = new SplitDriverQueue<number>(mem, new BumpAllocator(0x1001, 0x7f000), { size, features: { ...NO_FEATURES, ...features } });
  const c = drv.config;
  return {
    mem,
    drv,
    desc: (i: number, table = c.descTable) => ({
      addr: mem.readU64Number(table + 16 * i),
      len: mem.readU32(table + 16 * i + 8),
      flags: mem.readU16(table + 16 * i + 12),
      next: mem.readU16(table + 16 * i + 14),
    }),
    availIdx: () => mem.readU16(c.driverArea + 2),
    availFlags: () => mem.readU16(c.driverArea),
    availRing: (i: number) => mem.readU16(c.driverArea + 4 + 2 * (i % size)),
    usedEvent: () => mem.readU16(c.driverArea + 4 + 2 * size),
    setUsedFlags: (v: number) => mem.writeU16(c.deviceArea, v),
    setAvailEvent: (v: number) => mem.writeU16(c.deviceArea + 4 + 8 * size, v),
    /** Plays the device: writes a used element and publishes the used idx. */
    use: (slot: number, id: number, len: number, newIdx: number) => {
      mem.writeU32(c.deviceArea + 4 + 8 * (slot % size), id);
      mem.writeU32(c.deviceArea + 8 + 8 * (slot % size), len);
      mem.writeU16(c.deviceArea + 2, newIdx);
    },
  };
}

const seg = (addr: number, len: number): Segment => ({ addr, len });

/** Follows a chain in the raw table from `head`: the descriptors, bounded so a loop fails the test. */
function rawChain(t: ReturnType<typeof setup>, head: number, size: number) {
  const out = [];
  let i = head;
  for (let k = 0; k <= size; k++) {
    const d = t.desc(i);
    out.push({ i, ...d });
    if (!(d.flags & N)) return out;
    i = d.next;
  }
  throw new Error('chain loops');
}

describe('SplitDriverQueue: layout', () => {
  it('[split.drv.1] places each ring part at a multiple of its alignment', () => {
    for (const size of [1, 2, 8, 256]) {
      const { drv } = setup(size);
      expect(drv.config.descTable % 16).toBe(0);
      expect(drv.config.driverArea % 2).toBe(0);
      expect(drv.config.deviceArea % 4).toBe(0);
      expect(drv.config.packed).toBe(false);
    }
  });

  it('[split.drv.15] initialises the used ring flags to 0 even over dirty memory', () => {
    const mem = new FlatGuestMemory(new SharedArrayBuffer(0x100000));
    mem.view(0, 0x100000).fill(0xff);
    const { drv } = setup(8, {}, mem);
    expect(mem.readU16(drv.config.deviceArea)).toBe(0);
    expect(mem.readU16(drv.config.deviceArea + 2)).toBe(0);
    expect(mem.readU16(drv.config.driverArea + 2)).toBe(0);
  });

  it('refuses queue sizes that are not a power of two up to 32768', () => {
    const mem = new FlatGuestMemory(new ArrayBuffer(0x1000));
    expect(() => new SplitDriverQueue(mem, new BumpAllocator(0, 0x1000), { size: 3, features: NO_FEATURES })).toThrow(VirtqueueError);
  });
});

describe('SplitDriverQueue: building chains', () => {
  it('[split.drv.2] places device-writable descriptors after device-readable ones, direct and indirect', () => {
    for (const indirect of [false, true]) {
      const t = setup(8, { indirectDesc: indirect });
      t.drv.add([seg(BUF, 4), seg(BUF + 4, 4)], [seg(BUF + 8, 4), seg(BUF + 12, 4)], 1);
      const head = t.availRing(0);
      const descs = indirect
        ? (() => {
            const h = t.desc(head);
            return [0, 1, 2, 3].map((k) => t.desc(k, h.addr));
          })()
        : rawChain(t, head, 8);
      expect(descs.map((d) => d.flags & W)).toEqual([0, 0, W, W]);
      expect(descs.map((d) => d.addr)).toEqual([BUF, BUF + 4, BUF + 8, BUF + 12]);
    }
  });

  it('[split.drv.4] refuses chains of 2^32 bytes or more, and its chains never loop', () => {
    const t = setup(8);
    expect(() => t.drv.add([seg(BUF, 0xffff_ffff)], [seg(BUF, 1)], 1)).toThrow(RangeError);
    expect(() => t.drv.add([seg(BUF, 2 ** 32)], [], 1)).toThrow(RangeError);
    expect(t.drv.numFree).toBe(8);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.boolean()), { maxLength: 30 }), (ops) => {
        const u = setup(8);
        const dev = new SplitDeviceQueue(u.mem, u.drv.config);
        let tok = 0;
        for (const [o, i, reap] of ops) {
          if (u.drv.add(Array(o).fill(seg(BUF, 8)), Array(i).fill(seg(BUF, 8)), tok++)) {
            u.drv.kick();
            const c = dev.pop()!;
            expect(rawChain(u, c.id, 8)).toHaveLength(o + i);
            if (reap) {
              dev.push(c, 0);
              dev.needsNotification();
              u.drv.reap();
            }
          }
        }
      }),
    );
  });

  it('[split.drv.5] with VIRTIO_F_IN_ORDER chains descriptor x to x + 1, and the last table entry to 0', () => {
    const t = setup(4, { inOrder: true });
    const dev = new SplitDeviceQueue(t.mem, t.drv.config);
    for (let round = 0; round < 6; round++) {
      expect(t.drv.add([seg(BUF, 4)], [seg(BUF + 4, 4), seg(BUF + 8, 4)], round)).toBe(true);
      t.drv.kick();
      const c = dev.pop()!;
      for (const d of rawChain(t, c.id, 4).slice(0, -1)) expect(d.next).toBe(d.i === 3 ? 0 : d.i + 1);
      dev.push(c, 0);
      dev.needsNotification();
      expect(t.drv.reap()!.token).toBe(round);
    }
  });

  it('[split.drv.6] sets VIRTQ_DESC_F_INDIRECT only when negotiated, and never inside a table', () => {
    const plain = setup(8);
    expect(() => plain.drv.add([seg(BUF, 4)], [], 1, { indirect: true })).toThrow(expect.objectContaining({ code: 'indirect-not-negotiated' }));
    plain.drv.add([seg(BUF, 4), seg(BUF, 4)], [seg(BUF, 4)], 1);
    expect(rawChain(plain, plain.availRing(0), 8).every((d) => (d.flags & I) === 0)).toBe(true);
    const ind = setup(8, { indirectDesc: true });
    ind.drv.add([seg(BUF, 4), seg(BUF, 4)], [seg(BUF, 4)], 1);
    const head = ind.desc(ind.availRing(0));
    expect(head.flags & I).toBe(I);
    expect(head.len).toBe(48);
    expect([0, 1, 2].every((k) => (ind.desc(k, head.addr).flags & I) === 0)).toBe(true);
    expect(ind.drv.numFree).toBe(7);
  });

  it('[split.drv.3] describes a multi-segment buffer with a single ring descriptor when INDIRECT_DESC is on', () => {
    const t = setup(8, { indirectDesc: true });
    expect(t.drv.add([seg(BUF, 4), seg(BUF, 4), seg(BUF, 4)], [seg(BUF, 4), seg(BUF, 4)], 1)).toBe(true);
    expect(t.drv.numFree).toBe(7);
    expect(t.drv.add([seg(BUF, 4)], [], 2)).toBe(true);
    expect(t.drv.numFree).toBe(6);
    expect(t.desc(t.availRing(1)).flags & I).toBe(0);
  });

  it('[split.drv.7] never creates a chain longer than the queue size', () => {
    const t = setup(4);
    expect(() => t.drv.add(Array(5).fill(seg(BUF, 1)), [], 1)).toThrow(RangeError);
    const ind = setup(4, { indirectDesc: true });
    expect(() => ind.drv.add(Array(3).fill(seg(BUF, 1)), Array(2).fill(seg(BUF, 1)), 1)).toThrow(RangeError);
    expect(ind.drv.add(Array(2).fill(seg(BUF, 1)), Array(2).fill(seg(BUF, 1)), 1)).toBe(true);
  });

  it('[split.drv.8] never sets VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT', () => {
    const t = setup(8, { indirectDesc: true });
    for (let k = 0; k < 8; k++) t.drv.add([seg(BUF, 4)], [seg(BUF, 4)], k, { indirect: true });
    for (let d = 0; d < 8; d++) expect(t.desc(d).flags).toBe(I);
  });

  it('[split.drv.9] with VIRTIO_F_IN_ORDER numbers indirect descriptors sequentially', () => {
    const t = setup(8, { indirectDesc: true, inOrder: true });
    t.drv.add([seg(BUF, 4), seg(BUF, 4)], [seg(BUF, 4), seg(BUF, 4)], 1);
    const table = t.desc(t.availRing(0)).addr;
    expect([0, 1, 2].map((k) => t.desc(k, table).next)).toEqual([1, 2, 3]);
    expect([0, 1, 2, 3].map((k) => t.desc(k, table).flags & N)).toEqual([N, N, N, 0]);
  });

  it('returns false without changing anything when descriptors run out', () => {
    const t = setup(4);
    expect(t.drv.add([seg(BUF, 1), seg(BUF, 1), seg(BUF, 1)], [], 1)).toBe(true);
    const before = t.mem.view(t.drv.config.descTable, 64).slice();
    expect(t.drv.add([seg(BUF, 1), seg(BUF, 1)], [], 2)).toBe(false);
    expect(t.drv.numFree).toBe(1);
    expect(t.mem.view(t.drv.config.descTable, 64)).toEqual(before);
  });

  it('[basic.drv.19] never alters the descriptors or ring entries of exposed buffers', () => {
    const t = setup(8, { indirectDesc: true });
    const dev = new SplitDeviceQueue(t.mem, t.drv.config);
    t.drv.add([seg(BUF, 4), seg(BUF + 8, 4)], [seg(BUF + 16, 4)], 1);
    t.drv.add([seg(BUF + 32, 4)], [], 2);
    t.drv.kick();
    const c = dev.pop()!;
    const exposedHead = t.desc(c.id);
    const table = t.mem.view(exposedHead.addr, exposedHead.len).slice();
    const other = dev.pop()!;
    dev.push(other, 0);
    dev.needsNotification();
    expect(t.drv.reap()?.token).toBe(2);
    for (let k = 0; k < 6; k++) t.drv.add([seg(BUF, 4), seg(BUF, 4)], [seg(BUF, 4)], 10 + k);
    t.drv.kick();
    expect(t.desc(c.id)).toEqual(exposedHead);
    expect(t.mem.view(exposedHead.addr, exposedHead.len)).toEqual(table);
    expect(t.availRing(0)).toBe(c.id);
  });
});

describe('SplitDriverQueue: publishing and notifying', () => {
  it('[split.drv.18] [split.drv.19] writes ring entries before the idx update, and reads suppression state after it', () => {
    for (const eventIdx of [false, true]) {
      const t = setup(8, { eventIdx });
      const log: string[] = [];
      const store = Atomics.store;
      const load = Atomics.load;
      const avail = t.drv.config.driverArea;
      const used = t.drv.config.deviceArea;
      vi.spyOn(Atomics, 'store').mockImplementation(((ta: Uint16Array, index: number, value: number) => {
        if (ta.byteOffset === avail && index === 1) log.push(`store idx, ring[0]=${t.availRing(0)}, len=${t.desc(t.availRing(0)).len}`);
        return store(ta, index, value);
      }) as typeof Atomics.store);
      vi.spyOn(Atomics, 'load').mockImplementation(((ta: Uint16Array, index: number) => {
        if (ta.byteOffset === used && (index === 0 || index === 2 + 4 * 8)) log.push('load suppression');
        return load(ta, index);
      }) as typeof Atomics.load);
      t.drv.add([seg(BUF, 77)], [], 1);
      t.drv.kick();
      vi.restoreAllMocks();
      expect(log).toEqual(['store idx, ring[0]=0, len=77', 'load suppression']);
    }
  });

  it('[split.drv.10] never decrements the available idx: it moves forward by what was added (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 40 }), (adds) => {
        const t = setup(4);
        const dev = new SplitDeviceQueue(t.mem, t.drv.config);
        let expected = 0;
        for (const n of adds) {
          let added = 0;
          for (let k = 0; k < n; k++) if (t.drv.add([seg(BUF, 1)], [], k)) added++;
          const before = t.availIdx();
          t.drv.kick();
          expected = (expected + added) & 0xffff;
          expect((t.availIdx() - before) & 0xffff).toBe(added);
          expect(t.availIdx()).toBe(expected);
          for (let c = dev.pop(); c; c = dev.pop()) dev.push(c, 0);
          dev.needsNotification();
          while (t.drv.reap());
        }
      }),
    );
  });

  it('[split.drv.16] without VIRTIO_F_EVENT_IDX notifies exactly when the used flags are 0, ignoring avail_event', () => {
    const t = setup(8);
    t.setAvailEvent(1234);
    t.drv.add([seg(BUF, 1)], [], 1);
    expect(t.drv.kick()).toBe(true);
    t.setUsedFlags(1);
    t.drv.add([seg(BUF, 1)], [], 2);
    expect(t.drv.kick()).toBe(false);
    t.setUsedFlags(0);
    expect(t.drv.kick()).toBe(false);
    t.drv.add([seg(BUF, 1)], [], 3);
    expect(t.drv.kick()).toBe(true);
  });

  it('[split.drv.17] with VIRTIO_F_EVENT_IDX notifies exactly when the available idx passes avail_event, ignoring the flags bit', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 6 }), fc.boolean()), { maxLength: 20 }), (steps) => {
        const t = setup(8, { eventIdx: true });
        const dev = new SplitDeviceQueue(t.mem, t.drv.config);
        let idx = 0;
        for (const [n, ahead, flag] of steps) {
          t.setAvailEvent((idx + ahead) & 0xffff);
          t.setUsedFlags(flag ? 1 : 0);
          for (let k = 0; k < n; k++) t.drv.add([seg(BUF, 1)], [], k);
          expect(t.drv.kick()).toBe(n > 0 && ahead < n);
          idx += n;
          dev.disableNotifications();
          for (let c = dev.pop(); c; c = dev.pop()) dev.push(c, 0);
          dev.needsNotification();
          while (t.drv.reap());
        }
      }),
    );
  });

  it('[split.drv.11] without VIRTIO_F_EVENT_IDX sets the available flags to 0 or 1 only', () => {
    const t = setup(8);
    t.drv.disableInterrupts();
    expect(t.availFlags()).toBe(1);
    expect(t.drv.enableInterrupts()).toBe(false);
    expect(t.availFlags()).toBe(0);
  });

  it('[split.drv.12] with VIRTIO_F_EVENT_IDX keeps the available flags 0 and asks via used_event', () => {
    const t = setup(8, { eventIdx: true });
    const dev = new SplitDeviceQueue(t.mem, t.drv.config);
    t.drv.disableInterrupts();
    expect(t.availFlags()).toBe(0);
    t.drv.add([seg(BUF, 1)], [], 1);
    t.drv.add([seg(BUF, 1)], [], 2);
    t.drv.kick();
    dev.push(dev.pop()!, 0);
    dev.push(dev.pop()!, 0);
    dev.needsNotification();
    t.drv.reap();
    expect(t.drv.enableInterrupts()).toBe(true);
    expect(t.usedEvent()).toBe(1);
    t.drv.reap();
    expect(t.usedEvent()).toBe(2);
    expect(t.availFlags()).toBe(0);
  });

  it('[split.drv.13] handles spurious notifications: reaping with nothing used returns null and changes nothing', () => {
    const t = setup(8);
    t.drv.add([seg(BUF, 1)], [], 1);
    t.drv.kick();
    expect(t.drv.reap()).toBeNull();
    expect(t.drv.enableInterrupts()).toBe(false);
    expect(t.drv.reap()).toBeNull();
    expect(t.drv.numFree).toBe(7);
  });
});

describe('SplitDriverQueue: reaping', () => {
  it('[split.drv.14] reports no more than the writable bytes, whatever len the device claims', () => {
    const t = setup(8);
    t.drv.add([seg(BUF, 8)], [seg(BUF + 8, 16)], 7);
    t.drv.kick();
    t.use(0, t.availRing(0), 0xffff_ffff, 1);
    expect(t.drv.reap()).toEqual({ token: 7, len: 16 });
  });

  it('refuses used ids that are not in flight and used idx jumps', () => {
    const t = setup(8);
    t.drv.add([seg(BUF, 8)], [], 1);
    t.drv.kick();
    t.use(0, 5, 0, 1);
    expect(() => t.drv.reap()).toThrow(expect.objectContaining({ code: 'bad-used-id' }));
    const u = setup(8);
    u.drv.add([seg(BUF, 8)], [], 1);
    u.drv.kick();
    u.use(0, u.availRing(0), 0, 2);
    expect(() => u.drv.reap()).toThrow(expect.objectContaining({ code: 'bad-used-id' }));
  });

  it('with VIRTIO_F_IN_ORDER understands one used entry standing for a batch', () => {
    const t = setup(8, { inOrder: true });
    t.drv.add([seg(BUF, 1)], [seg(BUF, 10)], 1);
    t.drv.add([seg(BUF, 1)], [seg(BUF, 20), seg(BUF, 5)], 2);
    t.drv.add([seg(BUF, 1)], [seg(BUF, 30)], 3);
    t.drv.kick();
    // The device skips ahead: one entry (id of the batch's last buffer, head 5) and idx += 3.
    t.use(0, 5, 7, 3);
    expect(t.drv.reap()).toEqual({ token: 1, len: 10 });
    expect(t.drv.reap()).toEqual({ token: 2, len: 25 });
    expect(t.drv.reap()).toEqual({ token: 3, len: 7 });
    expect(t.drv.reap()).toBeNull();
    expect(t.drv.numFree).toBe(8);
    t.drv.add([seg(BUF, 1)], [], 4);
    t.drv.kick();
    t.use(3, 7, 0, 4);
    expect(t.drv.reap()).toEqual({ token: 4, len: 0 });
  });

  it('reuses indirect tables and frees descriptors', () => {
    const t = setup(4, { indirectDesc: true });
    const dev = new SplitDeviceQueue(t.mem, t.drv.config);
    const tables = new Set<number>();
    for (let k = 0; k < 50; k++) {
      expect(t.drv.add([seg(BUF, 1), seg(BUF, 2)], [seg(BUF, 3)], k)).toBe(true);
      t.drv.kick();
      const c = dev.pop()!;
      tables.add(t.desc(c.id).addr);
      expect(c.readableLength).toBe(3);
      dev.push(c, 3);
      dev.needsNotification();
      expect(t.drv.reap()).toEqual({ token: k, len: 3 });
    }
    expect(t.drv.numFree).toBe(4);
    expect(tables.size).toBe(1);
  });
});
