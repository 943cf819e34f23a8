// Used buffers are published per batch: pushes write used elements (split) or used descriptors
// (packed) that the driver cannot see until needsNotification() ends the batch, so a driver
// reading the ring between two pushes of a batch (say, the buffers of one MRG_RXBUF packet)
// sees none of it, and after needsNotification() all of it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { BumpAllocator, FlatGuestMemory, SplitDeviceQueue, SplitDriverQueue } from '../src/index.js';
import { ALL_FEATURES, DATA, NO_FEATURES, RawSplitRing, specNeedEvent, USED as USED_RING } from './fixture.js';
import { AVAIL, USED, buf, packedPair } from './packed-fixtures.js';

afterEach(() => vi.restoreAllMocks());

const W = 2;

describe('split: a batch of pushes is published at needsNotification', () => {
  it('a driver reading the used ring between pushes sees none of the batch; after needsNotification, all of it', () => {
    const mem = new FlatGuestMemory(new SharedArrayBuffer(0x100000));
    const drv = new SplitDriverQueue<number>(mem, new BumpAllocator(0x1000, 0x7f000), { size: 8, features: NO_FEATURES });
    const dev = new SplitDeviceQueue(mem, drv.config);
    const usedIdx = () => mem.readU16(drv.config.deviceArea + 2);
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 3; k++) drv.add([], [{ addr: 0x80000 + 64 * k, len: 64 }], 10 * round + k);
      drv.kick();
      const before = usedIdx();
      for (let k = 0; k < 3; k++) {
        dev.push(dev.pop()!, 8 + k);
        expect(usedIdx()).toBe(before);
        expect(drv.reap()).toBeNull();
      }
      dev.needsNotification();
      expect(usedIdx()).toBe((before + 3) & 0xffff);
      expect([drv.reap(), drv.reap(), drv.reap(), drv.reap()]).toEqual([
        { token: 10 * round, len: 8 },
        { token: 10 * round + 1, len: 9 },
        { token: 10 * round + 2, len: 10 },
        null,
      ]);
    }
  });

  it('publishes the used idx with one store per batch, before it reads used_event', () => {
    const r = new RawSplitRing(8, ALL_FEATURES);
    for (let i = 0; i < 4; i++) r.desc(i, DATA + 64 * i, 64, W);
    r.offer(0, 1, 2, 3);
    const chains = [r.dev.pop()!, r.dev.pop()!, r.dev.pop()!, r.dev.pop()!];
    const stores: number[] = [];
    const idxAtUsedEvent: number[] = [];
    const store = Atomics.store;
    const load = Atomics.load;
    vi.spyOn(Atomics, 'store').mockImplementation(((ta: Uint16Array, i: number, v: number) => {
      if (ta.byteOffset === USED_RING && i === 1) stores.push(v);
      return store(ta, i, v);
    }) as typeof Atomics.store);
    vi.spyOn(Atomics, 'load').mockImplementation(((ta: Uint16Array, i: number) => {
      if (ta.byteOffset !== USED_RING && i === 2 + 8) idxAtUsedEvent.push(r.usedIdx());
      return load(ta, i);
    }) as typeof Atomics.load);
    for (const c of chains) r.dev.push(c, 1);
    expect(stores).toEqual([]);
    r.dev.needsNotification();
    expect(stores).toEqual([4]);
    expect(idxAtUsedEvent).toEqual([4]);
  });

  it('with VIRTIO_F_EVENT_IDX decides over the whole batch: old is the used idx before it, even when the driver moves used_event mid-batch', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 7 })), { maxLength: 25 }),
        (batches) => {
          const r = new RawSplitRing(8, { ...NO_FEATURES, eventIdx: true });
          let used = 0;
          let head = 0;
          for (const [n, at, ahead] of batches) {
            const old = used;
            // The driver, seeing only `old`, asks for an interrupt `ahead` buffers on, while
            // the device is `at` pushes into the batch.
            let event = (old + 100) & 0xffff;
            r.setUsedEvent(event);
            for (let k = 0; k < n; k++) {
              if (k === at) {
                expect(r.usedIdx()).toBe(old);
                event = (old + ahead) & 0xffff;
                r.setUsedEvent(event);
              }
              r.desc(head, DATA, 16, W);
              r.offer(head);
              r.dev.push(r.dev.pop()!, 4);
              head = (head + 1) % 8;
            }
            used = (used + n) & 0xffff;
            expect(r.dev.needsNotification()).toBe(n > 0 && specNeedEvent(event, used, old));
            expect(r.usedIdx()).toBe(used);
          }
        },
      ),
    );
  });
});

describe('packed: a batch of pushes is published at needsNotification', () => {
  it('a driver polling its next used descriptor between pushes sees none of the batch; after needsNotification, all of it', () => {
    const { memory, driver, device } = packedPair(5);
    const flagsAt = (i: number) => memory.readU16(driver.config.descTable + 16 * i + 14);
    let next = 0;
    let wrap = 1;
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 3; k++) driver.add([], [buf(k, 64)], 10 * round + k);
      driver.kick();
      const polled = next;
      const isUsed = (f: number) => ((f & AVAIL) !== 0) === (wrap === 1) && ((f & USED) !== 0) === (wrap === 1);
      for (let k = 0; k < 3; k++) {
        device.push(device.pop()!, 8 + k);
        expect(isUsed(flagsAt(polled))).toBe(false);
        expect(driver.reap()).toBeNull();
      }
      device.needsNotification();
      expect(isUsed(flagsAt(polled))).toBe(true);
      expect([driver.reap(), driver.reap(), driver.reap(), driver.reap()]).toEqual([
        { token: 10 * round, len: 8 },
        { token: 10 * round + 1, len: 9 },
        { token: 10 * round + 2, len: 10 },
        null,
      ]);
      next += 3;
      if (next >= 5) {
        next -= 5;
        wrap ^= 1;
      }
    }
  });

  it('stores the first used descriptor’s flags last, after every other descriptor of the batch is used', () => {
    const { memory, driver, device } = packedPair(8);
    const flagsAt = (i: number) => memory.readU16(driver.config.descTable + 16 * i + 14);
    for (let k = 0; k < 4; k++) driver.add([], [buf(k, 64)], k);
    driver.kick();
    const chains = [device.pop()!, device.pop()!, device.pop()!, device.pop()!];
    const atomicFlagStores: { slot: number; others: boolean }[] = [];
    const store = Atomics.store;
    vi.spyOn(Atomics, 'store').mockImplementation(((ta: Uint16Array, i: number, v: number) => {
      if (ta.byteOffset === driver.config.descTable && i % 8 === 7) {
        atomicFlagStores.push({ slot: (i - 7) / 8, others: [1, 2, 3].every((s) => (flagsAt(s) & USED) !== 0) });
      }
      return store(ta, i, v);
    }) as typeof Atomics.store);
    for (const c of chains) device.push(c, 4);
    expect(atomicFlagStores).toEqual([]);
    expect(flagsAt(0) & USED).toBe(0);
    device.needsNotification();
    expect(atomicFlagStores).toEqual([{ slot: 0, others: true }]);
    expect(flagsAt(0) & USED).toBe(USED);
  });

  it('with VIRTIO_F_IN_ORDER a batch ended early by a partial buffer is still published at needsNotification only', () => {
    const { driver, device } = packedPair(8, { inOrder: true });
    for (let k = 0; k < 3; k++) driver.add([], [buf(k, 64)], k);
    driver.kick();
    const cs = [device.pop()!, device.pop()!, device.pop()!];
    device.push(cs[0], 64);
    device.push(cs[1], 10);
    device.push(cs[2], 64);
    expect(driver.reap()).toBeNull();
    device.needsNotification();
    expect([driver.reap(), driver.reap(), driver.reap(), driver.reap()]).toEqual([
      { token: 0, len: 64 },
      { token: 1, len: 10 },
      { token: 2, len: 64 },
      null,
    ]);
  });

  it('with VIRTIO_F_EVENT_IDX the notification decision covers every descriptor of the batch', () => {
    const { driver, device } = packedPair(8, { eventIdx: true });
    for (let round = 0; round < 4; round++) {
      for (let k = 0; k < 3; k++) driver.add([], [buf(k, 64)], k);
      driver.kick();
      // The driver asks for an interrupt at its next used descriptor: the first of the batch.
      expect(driver.enableInterrupts()).toBe(false);
      for (let k = 0; k < 3; k++) device.push(device.pop()!, 1);
      expect(device.needsNotification()).toBe(true);
      driver.disableInterrupts();
      expect([driver.reap(), driver.reap(), driver.reap()].every((u) => u !== null)).toBe(true);
      // Nothing pushed since: no notification, whatever the driver asks.
      expect(device.needsNotification()).toBe(false);
    }
  });
});
