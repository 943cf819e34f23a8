// The DescriptorChain lifetime contract (src/queue/types.ts): a popped chain is the device's
// until it is pushed; the queue may refill the same object for a later pop only after that.
import { describe, expect, it } from 'vitest';
import { AVAIL, DATA, NO_FEATURES, RawSplitRing, USED } from './fixture.js';
import { RawRing, buf, packedPair } from './packed-fixtures.js';

const NEXT = 1;
const W = 2;
const snapshot = (c: { id: number; readable: readonly object[]; writable: readonly object[]; readableLength: number; writableLength: number }) =>
  structuredClone({ id: c.id, readable: [...c.readable], writable: [...c.writable], readableLength: c.readableLength, writableLength: c.writableLength });

describe('split chains: lifetime', () => {
  it('a chain in flight keeps its segments while other heads come and go and the driver rewrites its descriptors', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.desc(0, DATA, 16, NEXT, 1);
    r.desc(1, DATA + 0x100, 32, W);
    r.desc(2, DATA + 0x200, 8, W);
    r.offer(0);
    const held = r.dev.pop()!;
    const before = snapshot(held);
    expect(before.readable).toEqual([{ addr: DATA, len: 16 }]);
    for (let k = 0; k < 20; k++) {
      r.offer(2);
      r.dev.push(r.dev.pop()!, 1);
    }
    r.desc(0, DATA + 0x300, 64, W);
    r.desc(1, DATA + 0x400, 64, W);
    expect(snapshot(held)).toEqual(before);
    r.dev.push(held, 32);
    expect(r.usedElem(20)).toEqual({ id: 0, len: 32 });
  });

  it('popping a head again after its push gives that pop’s descriptors, a shorter chain dropping the old extra segments', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.desc(0, DATA, 16, NEXT, 1);
    r.desc(1, DATA + 0x100, 16, NEXT | W, 2);
    r.desc(2, DATA + 0x200, 16, W);
    r.offer(0);
    const first = r.dev.pop()!;
    expect(first.writable.length).toBe(2);
    r.dev.push(first, 0);
    r.desc(0, DATA + 0x300, 40, W);
    r.offer(0);
    const again = r.dev.pop()!;
    expect(snapshot(again)).toEqual({ id: 0, readable: [], writable: [{ addr: DATA + 0x300, len: 40 }], readableLength: 0, writableLength: 40 });
    r.dev.push(again, 40);
    expect(r.usedElem(1)).toEqual({ id: 0, len: 40 });
  });

  it('[basic.dev.9] a chain held across a queue reset is not refilled by a pop of its head after the reset, and its push is dropped', () => {
    const r = new RawSplitRing(8, NO_FEATURES);
    r.desc(0, DATA, 16, W);
    r.offer(0);
    const stale = r.dev.pop()!;
    r.dev.reset();
    r.mem.view(AVAIL, 6 + 16).fill(0);
    r.mem.view(USED, 6 + 64).fill(0);
    r.availIdx = 0;
    r.desc(0, DATA + 0x100, 8, W);
    r.offer(0);
    const fresh = r.dev.pop()!;
    expect(fresh).not.toBe(stale);
    expect(snapshot(stale).writable).toEqual([{ addr: DATA, len: 16 }]);
    r.dev.push(stale, 16);
    expect(r.dev.needsNotification()).toBe(false);
    expect(r.usedIdx()).toBe(0);
    r.dev.push(fresh, 8);
    r.dev.needsNotification();
    expect(r.usedIdx()).toBe(1);
    expect(r.usedElem(0)).toEqual({ id: 0, len: 8 });
  });
});

describe('packed chains: lifetime', () => {
  it('a chain in flight keeps its segments while other buffers come and go over several laps', () => {
    const { driver, device } = packedPair(4);
    driver.add([buf(0, 16)], [buf(1, 32)], 100);
    driver.kick();
    const held = device.pop()!;
    const before = snapshot(held);
    expect(before.readable).toEqual([buf(0, 16)]);
    for (let k = 0; k < 20; k++) {
      driver.add([buf(2 + (k % 3), 8)], [buf(5, 64)], k);
      driver.kick();
      device.push(device.pop()!, 64);
      device.needsNotification();
      expect(driver.reap()).toEqual({ token: k, len: 64 });
    }
    expect(snapshot(held)).toEqual(before);
    device.push(held, 32);
    device.needsNotification();
    expect(driver.reap()).toEqual({ token: 100, len: 32 });
  });

  it('popping a buffer id again after its push gives that pop’s elements, a shorter buffer dropping the old extra ones', () => {
    const { driver, device } = packedPair(4);
    driver.add([buf(0, 16), buf(1, 16)], [buf(2, 16)], 1);
    driver.kick();
    const first = device.pop()!;
    const id = first.id;
    device.push(first, 0);
    device.needsNotification();
    expect(driver.reap()?.token).toBe(1);
    driver.add([], [buf(3, 40)], 2);
    driver.kick();
    const again = device.pop()!;
    expect(again.id).toBe(id);
    expect(snapshot(again)).toEqual({ id, readable: [], writable: [buf(3, 40)], readableLength: 0, writableLength: 40 });
  });

  it('[basic.dev.9] a chain held across a queue reset is not refilled by a pop of its id after the reset, and its push is dropped', () => {
    const r = new RawRing(4);
    const dev = r.device();
    const W = 2;
    r.desc(0, 0x4000, 16, 0, W);
    const stale = dev.pop()!;
    dev.reset();
    r.desc(0, 0x4100, 8, 0, W);
    const fresh = dev.pop()!;
    expect(fresh).not.toBe(stale);
    expect(snapshot(stale).writable).toEqual([{ addr: 0x4000, len: 16 }]);
    const flags = r.flags(0);
    dev.push(stale, 16);
    expect(dev.needsNotification()).toBe(false);
    expect(r.flags(0)).toBe(flags);
    dev.push(fresh, 8);
    expect(r.len(0)).toBe(8);
  });
});
