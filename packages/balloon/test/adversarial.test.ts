// Hostile drivers: malformed chains get DEVICE_NEEDS_RESET, bad page numbers are ignored, and
// nothing touches memory outside the guest's.
import { featureMask, VIRTIO_F_RING_RESET, VIRTIO_F_VERSION_1 } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import {
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_FREE_PAGE_VQ,
  VIRTIO_BALLOON_REPORTING_VQ,
  VIRTIO_BALLOON_STATSQ,
  STATS_MAX_ENTRIES,
} from '../src/index.js';
import { MEM_SIZE, POOL_START, rawDriver } from './harness.js';

const V1 = featureMask(VIRTIO_F_VERSION_1);
const ALL = V1 | featureMask(VIRTIO_BALLOON_F_STATS_VQ, VIRTIO_BALLOON_F_FREE_PAGE_HINT, VIRTIO_BALLOON_F_PAGE_REPORTING);
const QUEUES = [0, 1, VIRTIO_BALLOON_STATSQ, VIRTIO_BALLOON_FREE_PAGE_VQ, VIRTIO_BALLOON_REPORTING_VQ];
const BUF = 0x80000;

describe('balloon device against a hostile driver', () => {
  it('ignores page numbers outside guest memory and takes the rest', () => {
    const r = rawDriver({}, V1, [0, 1]);
    const inside = POOL_START / 4096;
    expect(r.send(0, [r.u32s(BUF, [inside, MEM_SIZE / 4096, 0xffffffff, inside + 1])])).toBe(true);
    expect(r.needsReset()).toBe(false);
    expect(r.dev.counters).toMatchObject({ inflated: 2, ignored: 2 });
    expect([...r.backend.inBalloon]).toEqual([POOL_START, POOL_START + 4096]);
  });

  it.each([
    ['a page array with a device-writable buffer', 0, (r: ReturnType<typeof rawDriver>) => r.send(0, [r.u32s(BUF, [1])], [{ addr: BUF + 64, len: 4 }])],
    ['a page array that is not whole le32s', 1, (r: ReturnType<typeof rawDriver>) => r.send(1, [{ addr: BUF, len: 6 }])],
    ['a page array over the size limit', 0, (r: ReturnType<typeof rawDriver>) => r.send(0, [{ addr: BUF, len: 65540 }])],
    ['a statsq buffer that is device-writable', 2, (r: ReturnType<typeof rawDriver>) => r.send(VIRTIO_BALLOON_STATSQ, [], [{ addr: BUF, len: 10 }])],
    ['a command ID buffer of 3 bytes', 3, (r: ReturnType<typeof rawDriver>) => r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [{ addr: BUF, len: 3 }])],
    ['a report with a device-readable buffer', 4, (r: ReturnType<typeof rawDriver>) => r.send(VIRTIO_BALLOON_REPORTING_VQ, [{ addr: BUF, len: 4096 }])],
  ])('%s sets DEVICE_NEEDS_RESET and the device stops', (_name, _q, act) => {
    const r = rawDriver({}, ALL, QUEUES);
    act(r);
    expect(r.needsReset()).toBe(true);
    // Later notifications do nothing: the device no longer reads the rings.
    expect(r.send(0, [r.u32s(BUF, [POOL_START / 4096])])).toBe(false);
    expect(r.backend.inBalloon.size).toBe(0);
  });

  it('ignores reported and hinted ranges that are unaligned or outside memory', () => {
    const r = rawDriver({}, ALL, QUEUES);
    r.memory.write(POOL_START, new Uint8Array(8192).fill(9));
    r.send(VIRTIO_BALLOON_REPORTING_VQ, [], [
      { addr: POOL_START + 1, len: 4096 },
      { addr: POOL_START, len: 100 },
      { addr: MEM_SIZE - 4096, len: 4096 },
    ]);
    expect(r.needsReset()).toBe(false);
    expect(r.dev.counters).toMatchObject({ reported: 1, ignored: 2 });
    expect(r.memory.readU8(POOL_START + 4095)).toBe(9);
    const id = r.dev.startHinting();
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [r.u32s(BUF, [id])], [{ addr: POOL_START + 2048, len: 4096 }]);
    expect(r.dev.counters.hinted).toBe(0);
    expect(r.memory.readU8(POOL_START + 2048)).toBe(9);
  });

  it('a second statsq buffer while one is held returns the older one, used', () => {
    const r = rawDriver({}, ALL, QUEUES);
    r.memory.writeU16(BUF, 4);
    r.memory.writeU64(BUF + 2, 1n);
    expect(r.send(VIRTIO_BALLOON_STATSQ, [{ addr: BUF, len: 10 }])).toBe(false);
    expect(r.send(VIRTIO_BALLOON_STATSQ, [{ addr: BUF, len: 10 }])).toBe(true);
    expect(r.needsReset()).toBe(false);
    expect(r.dev.requestStats()).toBe(true);
  });

  it('random page arrays and shapes never throw out of the device', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 40; round++) {
      const r = rawDriver({}, ALL, QUEUES);
      for (let i = 0; i < 10 && !r.needsReset(); i++) {
        const q = QUEUES[Math.floor(rnd() * QUEUES.length)];
        const values = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 2 ** 32));
        const out = rnd() < 0.8 ? [r.u32s(BUF, values)] : [];
        const inSegs = rnd() < 0.5 ? [{ addr: Math.floor(rnd() * 1024) * 4096, len: 4096 * (1 + Math.floor(rnd() * 3)) }] : [];
        if (out.length + inSegs.length === 0) continue;
        expect(() => r.send(q, out, inSegs)).not.toThrow();
      }
    }
  });
});

describe('balloon statsq bounds', () => {
  it('reads at most STATS_MAX_ENTRIES entries of a huge statistics buffer', () => {
    const r = rawDriver({}, ALL, QUEUES);
    // One 1 MiB buffer of MEMFREE entries; only the first STATS_MAX_ENTRIES are looked at.
    for (let i = 0; i < STATS_MAX_ENTRIES + 1; i++) {
      r.memory.writeU16(POOL_START + i * 10, 4);
      r.memory.writeU64(POOL_START + i * 10 + 2, BigInt(i));
    }
    r.send(VIRTIO_BALLOON_STATSQ, [{ addr: POOL_START, len: 0x100000 }]);
    expect(r.needsReset()).toBe(false);
    expect(r.dev.lastStats?.get(4)).toBe(BigInt(STATS_MAX_ENTRIES - 1));
  });
});

describe('balloon statsq reset', () => {
  it('a queue reset forgets the held statistics buffer', () => {
    const r = rawDriver({}, ALL | featureMask(VIRTIO_F_RING_RESET), QUEUES);
    r.memory.writeU16(BUF, 4);
    r.send(VIRTIO_BALLOON_STATSQ, [{ addr: BUF, len: 10 }]);
    expect(r.transport.resetQueue(VIRTIO_BALLOON_STATSQ)).toBe(true);
    expect(r.dev.requestStats()).toBe(false);
    expect(r.needsReset()).toBe(false);
  });
});
