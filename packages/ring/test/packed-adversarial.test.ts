// A hostile driver writing raw packed-ring bytes: each malformed-ring class yields its
// VirtqueueError, never another exception, a hang or an access outside guest memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtqueueError, type VirtqueueErrorCode } from '../src/errors.js';
import { FlatGuestMemory } from '../src/memory/flat.js';
import type { GuestMemory } from '../src/memory/guest-memory.js';
import { PackedDeviceQueue } from '../src/packed/device-queue.js';
import type { DeviceQueue } from '../src/queue/types.js';
import { INDIRECT, NEXT, RawRing, WRITE, features } from './packed-fixtures.js';

function code(fn: () => unknown): VirtqueueErrorCode | 'none' {
  try {
    fn();
  } catch (e) {
    if (e instanceof VirtqueueError) return e.code;
    throw e;
  }
  return 'none';
}

/** 64 KiB of real memory that also claims a 1 TiB guest: buffers are never read by the queue. */
function hugeGuest(): GuestMemory {
  const flat = new FlatGuestMemory(new ArrayBuffer(0x10000));
  return new Proxy(flat, {
    get(target, prop) {
      if (prop === 'contains') return (addr: number, len: number) => addr >= 0 && len >= 0 && addr + len <= 2 ** 40;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('packed ring: malformed rings from an adversarial driver', () => {
  it('a buffer id at or above the queue size', () => {
    const r = new RawRing(4);
    r.desc(0, 0x4000, 16, 4, 0);
    expect(code(() => r.device().pop())).toBe('descriptor-index-out-of-range');
  });

  it('a buffer id made available again while in flight', () => {
    const r = new RawRing(4);
    r.desc(0, 0x4000, 16, 2, 0);
    r.desc(1, 0x4000, 16, 2, 0);
    const dev = r.device();
    dev.pop();
    expect(code(() => dev.pop())).toBe('head-in-flight');
  });

  it('[packed.dev.4] a list longer than the queue size ends the walk (no hang)', () => {
    const r = new RawRing(5);
    for (let i = 0; i < 5; i++) r.desc(i, 0x4000, 16, 0, NEXT);
    expect(code(() => r.device().pop())).toBe('chain-too-long');
  });

  it('a list running into a descriptor that is not available', () => {
    const r = new RawRing(4);
    r.desc(0, 0x4000, 16, 0, NEXT);
    r.desc(1, 0x4000, 16, 0, 0, 0); // the other lap's AVAIL bit
    expect(code(() => r.device().pop())).toBe('chain-too-long');
  });

  it('a device-readable element after a device-writable one, in a list and in a table', () => {
    const r = new RawRing(4, { indirectDesc: true });
    r.desc(0, 0x4000, 16, 0, NEXT | WRITE);
    r.desc(1, 0x4100, 16, 0, 0);
    expect(code(() => r.device().pop())).toBe('readable-after-writable');
    r.entry(0x8000, 0x4000, 16, 0, WRITE);
    r.entry(0x8010, 0x4100, 16, 0, 0);
    r.desc(0, 0x8000, 32, 0, INDIRECT);
    expect(code(() => r.device().pop())).toBe('readable-after-writable');
  });

  it('an indirect table of length 0 or not a multiple of 16', () => {
    for (const len of [0, 8, 24]) {
      const r = new RawRing(4, { indirectDesc: true });
      r.desc(0, 0x8000, len, 0, INDIRECT);
      expect(code(() => r.device().pop())).toBe('bad-indirect-length');
    }
  });

  it('an indirect table longer than the queue size', () => {
    const r = new RawRing(4, { indirectDesc: true });
    r.desc(0, 0x8000, 16 * 5, 0, INDIRECT);
    expect(code(() => r.device().pop())).toBe('chain-too-long');
  });

  it('a nested indirect table, including one pointing at itself', () => {
    const r = new RawRing(4, { indirectDesc: true });
    r.entry(0x8000, 0x8000, 16, 0, INDIRECT);
    r.desc(0, 0x8000, 16, 0, INDIRECT);
    expect(code(() => r.device().pop())).toBe('nested-indirect');
  });

  it('VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT, or inside a list', () => {
    const r = new RawRing(4, { indirectDesc: true });
    r.entry(0x8000, 0x4000, 16, 0, 0);
    r.desc(0, 0x8000, 16, 0, INDIRECT | NEXT);
    r.desc(1, 0x4000, 16, 0, 0);
    expect(code(() => r.device().pop())).toBe('indirect-with-next');
    r.desc(0, 0x4000, 16, 0, NEXT);
    r.desc(1, 0x8000, 16, 0, INDIRECT);
    expect(code(() => r.device().pop())).toBe('indirect-with-next');
  });

  it('VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC', () => {
    const r = new RawRing(4);
    r.entry(0x8000, 0x4000, 16, 0, 0);
    r.desc(0, 0x8000, 16, 0, INDIRECT);
    expect(code(() => r.device().pop())).toBe('indirect-not-negotiated');
  });

  it('addresses outside guest memory: element, table, table element, a 2^53+ table address', () => {
    const cases: ((r: RawRing) => void)[] = [
      (r) => r.desc(0, 0xfff8, 16, 0, 0),
      (r) => r.desc(0, 2 ** 52, 1, 0, 0),
      (r) => r.desc(0, 0xfff0, 32, 0, INDIRECT),
      (r) => {
        r.entry(0x8000, 0x10000, 1, 0, 0);
        r.desc(0, 0x8000, 16, 0, INDIRECT);
      },
      (r) => {
        r.memory.writeU64(0x8000, 0xffff_ffff_ffff_f000n);
        r.memory.writeU32(0x8008, 16);
        r.desc(0, 0x8000, 16, 0, INDIRECT);
      },
    ];
    for (const write of cases) {
      const r = new RawRing(4, { indirectDesc: true });
      write(r);
      expect(code(() => r.device().pop())).toBe('address-out-of-range');
    }
    const top = new RawRing(4);
    top.memory.writeU32(0x1000 + 4, 0xffff_ffff); // addr high word: 2^64 - ...
    top.memory.writeU32(0x1000 + 8, 16);
    top.memory.writeU16(0x1000 + 14, 1 << 7);
    expect(code(() => top.device().pop())).toBe('address-out-of-range');
  });

  it('a readable or writable part of 2^32 bytes or more', () => {
    const big = 0x8000_0000;
    for (const flags of [0, WRITE]) {
      const r = new RawRing(4, {}, hugeGuest());
      r.desc(0, 0x1_0000_0000, big, 0, NEXT | flags);
      r.desc(1, 0x2_0000_0000, big, 0, flags);
      expect(code(() => r.device().pop())).toBe('length-overflow');
    }
    const r = new RawRing(4, {}, hugeGuest());
    r.desc(0, 0x1_0000_0000, big, 0, NEXT);
    r.desc(1, 0x2_0000_0000, big - 1, 0, WRITE);
    expect(r.device().pop()!.readableLength).toBe(big);
  });

  it('more descriptors made available than the ring holds', () => {
    const r = new RawRing(2);
    const dev = r.device();
    r.desc(0, 0x4000, 16, 0, 0);
    r.desc(1, 0x4000, 16, 1, 0);
    dev.pop();
    dev.pop();
    r.desc(0, 0x4000, 16, 0, 0, 0); // re-made available for lap 2 while still in flight
    expect(code(() => dev.pop())).toBe('head-in-flight');
    r.desc(0, 0x4000, 16, 1, 0, 0);
    expect(code(() => dev.pop())).toBe('head-in-flight');
    const r3 = new RawRing(3);
    const dev3 = r3.device();
    r3.desc(0, 0x4000, 16, 0, NEXT);
    r3.desc(1, 0x4000, 16, 0, 0);
    r3.desc(2, 0x4000, 16, 1, 0);
    dev3.pop();
    dev3.pop();
    r3.desc(0, 0x4000, 16, 2, 0, 0); // id 2 is free, but every slot is in flight
    expect(code(() => dev3.pop())).toBe('avail-index-jump');
  });

  it('a queue configuration that is no packed ring: size, alignment, memory', () => {
    const memory = new FlatGuestMemory(new ArrayBuffer(0x10000));
    const cfg = { size: 4, descTable: 0x1000, driverArea: 0x800, deviceArea: 0x900, packed: true, features: features() };
    const make = (c: Partial<typeof cfg>) => code(() => new PackedDeviceQueue(memory, { ...cfg, ...c }));
    expect(make({})).toBe('none');
    expect(make({ size: 0 })).toBe('bad-queue-config');
    expect(make({ size: 32769 })).toBe('bad-queue-config');
    expect(make({ size: 2.5 })).toBe('bad-queue-config');
    expect(make({ descTable: 0x1008 })).toBe('bad-queue-config');
    expect(make({ driverArea: 0x802 })).toBe('bad-queue-config');
    expect(make({ deviceArea: 0x901 })).toBe('bad-queue-config');
    expect(make({ descTable: 0xfff0 })).toBe('address-out-of-range');
    expect(make({ deviceArea: 0x10000 })).toBe('address-out-of-range');
    expect(make({ size: 32768 })).toBe('address-out-of-range');
    expect(code(() => new PackedDeviceQueue(memory, { ...cfg, packed: false }))).toBe('bad-queue-config');
  });

  it('device-side misuse: pushing a chain not in flight, twice, forged, or with too many bytes', () => {
    const r = new RawRing(4);
    const dev = r.device();
    r.desc(0, 0x4000, 16, 0, WRITE);
    const c = dev.pop()!;
    expect(code(() => dev.push(c, 17))).toBe('bad-used-len');
    expect(code(() => dev.push(c, -1))).toBe('bad-used-len');
    expect(code(() => dev.push({ ...c }, 0))).toBe('bad-used-id');
    dev.push(c, 16);
    expect(code(() => dev.push(c, 16))).toBe('bad-used-id');
  });

  it('random ring and table bytes: only VirtqueueError escapes, and pop always returns', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.uint8Array({ minLength: 256, maxLength: 256 }),
        fc.uint8Array({ minLength: 128, maxLength: 128 }),
        fc.record({ indirectDesc: fc.boolean(), eventIdx: fc.boolean(), inOrder: fc.boolean() }),
        (size, ring, table, f) => {
          const memory = new FlatGuestMemory(new ArrayBuffer(0x10000));
          // Random descriptors; about half of them point at one of the random table entries.
          memory.write(0x1000, ring.subarray(0, 16 * size));
          memory.write(0x8000, table);
          for (let i = 0; i < size; i++) {
            if (ring[i] & 1) memory.writeU64(0x1000 + 16 * i, BigInt(0x8000 + (ring[i + 100] % 8) * 16));
          }
          const dev: DeviceQueue = new PackedDeviceQueue(memory, { size, descTable: 0x1000, driverArea: 0x800, deviceArea: 0x900, packed: true, features: f });
          for (let k = 0; k < 3 * size; k++) {
            let c;
            try {
              c = dev.pop();
            } catch (e) {
              expect(e).toBeInstanceOf(VirtqueueError);
              return;
            }
            if (c === null) return;
            for (const s of [...c.readable, ...c.writable]) expect(memory.contains(s.addr, s.len)).toBe(true);
            dev.push(c, c.writableLength);
            dev.needsNotification();
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
