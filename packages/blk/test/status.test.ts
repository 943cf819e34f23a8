// Every request type and status case of spec 5.2.6, driven by a hand-built chain per request.
import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import {
  BLK_DRIVER_FEATURES,
  MemoryBackend,
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_LIFETIME,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_DISCARD,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_GET_LIFETIME,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_SECURE_ERASE,
  VIRTIO_BLK_T_WRITE_ZEROES,
  VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP as UNMAP,
  type BlockBackend,
} from '../src/index.js';
import { pattern } from './harness.js';
import { DATA, rangesAt, rawRig, STATUS } from './raw.js';

const S = 512;
const disk = (t: { backend: BlockBackend }) => (t.backend as MemoryBackend).data;

describe('IN and OUT', () => {
  it('reads whole sectors into the writable data and reports data + status as written', async () => {
    const backend = new MemoryBackend({ data: pattern(1 << 20, 1) });
    const t = rawRig({ backend });
    expect(await t.request(VIRTIO_BLK_T_IN, 3, [{ addr: DATA, len: 2 * S }], true)).toEqual([VIRTIO_BLK_S_OK, 2 * S + 1]);
    const b = new Uint8Array(2 * S);
    t.memory.read(DATA, b);
    expect(b).toEqual(pattern(1 << 20, 1).subarray(3 * S, 5 * S));
  });

  it('writes the readable data after the header', async () => {
    const t = rawRig();
    t.memory.write(DATA, pattern(S, 2));
    expect(await t.request(VIRTIO_BLK_T_OUT, 7, [{ addr: DATA, len: S }])).toEqual([VIRTIO_BLK_S_OK, 1]);
    expect(disk(t).subarray(7 * S, 8 * S)).toEqual(pattern(S, 2));
  });

  it('answers IOERR for data that is not whole sectors, writing nothing', async () => {
    const t = rawRig();
    t.memory.write(DATA, new Uint8Array(S + 1).fill(9));
    expect(await t.request(VIRTIO_BLK_T_OUT, 0, [{ addr: DATA, len: S + 1 }])).toEqual([VIRTIO_BLK_S_IOERR, 1]);
    expect(await t.request(VIRTIO_BLK_T_IN, 0, [{ addr: DATA, len: 100 }], true)).toEqual([VIRTIO_BLK_S_IOERR, 0]);
    expect(disk(t).every((x) => x === 0)).toBe(true);
  });

  it('answers IOERR for sectors beyond capacity, including sector overflow past 2^53 and 2^64', async () => {
    const t = rawRig();
    const cap = (1 << 20) / S;
    const one = [{ addr: DATA, len: S }];
    expect((await t.request(VIRTIO_BLK_T_IN, cap - 1, one, true))[0]).toBe(VIRTIO_BLK_S_OK);
    expect((await t.request(VIRTIO_BLK_T_IN, cap, one, true))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_IN, cap - 1, [{ addr: DATA, len: 2 * S }], true))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_OUT, 2n ** 64n - 1n, one))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_OUT, 2n ** 53n, one))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_OUT, 2n ** 55n / 512n, one))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(disk(t).every((x) => x === 0)).toBe(true);
  });

  it('answers IOERR for a read longer than the disk (huge length), touching no data', async () => {
    const t = rawRig();
    t.memory.write(DATA, new Uint8Array(2 << 20).fill(0x33));
    expect(await t.request(VIRTIO_BLK_T_IN, 0, [{ addr: DATA, len: 2 << 20 }], true)).toEqual([VIRTIO_BLK_S_IOERR, 0]);
    expect(t.memory.readU8(DATA)).toBe(0x33);
  });

  it('completes a backend failure with IOERR', async () => {
    const backend = new MemoryBackend({ size: 1 << 20 });
    backend.read = () => Promise.reject(new Error('disk on fire'));
    backend.write = () => {
      throw new Error('synchronously on fire');
    };
    const t = rawRig({ backend });
    expect((await t.request(VIRTIO_BLK_T_IN, 0, [{ addr: DATA, len: S }], true))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_OUT, 0, [{ addr: DATA, len: S }]))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(t.state.status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET).toBe(0);
  });
});

describe('FLUSH, GET_ID, GET_LIFETIME, unknown types', () => {
  it('flushes the backend', async () => {
    const t = rawRig();
    expect(await t.request(VIRTIO_BLK_T_FLUSH, 0)).toEqual([VIRTIO_BLK_S_OK, 1]);
    expect((t.backend as MemoryBackend).flushes).toBe(1);
  });

  it('returns the ID string NUL-padded to 20 bytes, and no NUL for a 20-byte ID', async () => {
    const t = rawRig({ id: 'abc' });
    t.memory.write(DATA, new Uint8Array(20).fill(0xee));
    expect(await t.request(VIRTIO_BLK_T_GET_ID, 0, [{ addr: DATA, len: 20 }], true)).toEqual([VIRTIO_BLK_S_OK, 21]);
    const b = new Uint8Array(20);
    t.memory.read(DATA, b);
    expect([...b]).toEqual([97, 98, 99, ...new Array(17).fill(0)]);
    const u = rawRig({ id: '01234567890123456789-too-long' });
    expect((await u.request(VIRTIO_BLK_T_GET_ID, 0, [{ addr: DATA, len: 20 }], true))[0]).toBe(VIRTIO_BLK_S_OK);
    u.memory.read(DATA, b);
    expect(String.fromCharCode(...b)).toBe('01234567890123456789');
  });

  it('writes only what fits of the ID into a short buffer', async () => {
    const t = rawRig({ id: 'serial-number' });
    t.memory.write(DATA, new Uint8Array(8).fill(0xee));
    expect(await t.request(VIRTIO_BLK_T_GET_ID, 0, [{ addr: DATA, len: 6 }], true)).toEqual([VIRTIO_BLK_S_OK, 7]);
    expect(t.memory.readU8(DATA + 5)).toBe('serial'.charCodeAt(5));
    expect(t.memory.readU8(DATA + 6)).toBe(0xee);
  });

  it('[blk.dev.23] offers VIRTIO_BLK_F_LIFETIME only for a backend with lifetime metrics, and never sends reserved values', async () => {
    const none = rawRig();
    expect(none.device.deviceFeatures & featureMask(VIRTIO_BLK_F_LIFETIME)).toBe(0n);
    expect((await none.request(VIRTIO_BLK_T_GET_LIFETIME, 0, [{ addr: DATA, len: 6 }], true))[0]).toBe(VIRTIO_BLK_S_UNSUPP);

    const good = rawRig({ backend: new MemoryBackend({ lifetime: { preEolInfo: 1, deviceLifetimeEstTypA: 2, deviceLifetimeEstTypB: 11 } }) });
    expect(good.device.deviceFeatures & featureMask(VIRTIO_BLK_F_LIFETIME)).not.toBe(0n);
    expect(await good.request(VIRTIO_BLK_T_GET_LIFETIME, 0, [{ addr: DATA, len: 6 }], true)).toEqual([VIRTIO_BLK_S_OK, 7]);
    expect([good.memory.readU16(DATA), good.memory.readU16(DATA + 2), good.memory.readU16(DATA + 4)]).toEqual([1, 2, 11]);

    const bad = rawRig({ backend: new MemoryBackend({ lifetime: { preEolInfo: 4, deviceLifetimeEstTypA: 12, deviceLifetimeEstTypB: 0 } }) });
    bad.memory.write(DATA, new Uint8Array(6).fill(0xee));
    expect((await bad.request(VIRTIO_BLK_T_GET_LIFETIME, 0, [{ addr: DATA, len: 6 }], true))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(bad.memory.readU16(DATA)).toBe(0xeeee);
  });

  it('answers UNSUPP for unknown and legacy request types', async () => {
    const t = rawRig();
    for (const type of [2, 3, 5, 6, 7, 9, 12, 0x7fffffff, 0x80000000, 0xffffffff]) {
      expect(await t.request(type, 0)).toEqual([VIRTIO_BLK_S_UNSUPP, 1]);
    }
  });
});

describe('DISCARD, WRITE_ZEROES, SECURE_ERASE', () => {
  const filled = () => new MemoryBackend({ data: new Uint8Array(1 << 20).fill(0xaa) });

  it('[blk.dev.19] write zeroes makes the ranges read as zeroes, with unmap set or clear', async () => {
    const t = rawRig({ backend: filled() });
    const r = rangesAt(t.memory, DATA, [{ sector: 2, num: 2 }, { sector: 10, num: 1, flags: UNMAP }]);
    expect(await t.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, r)).toEqual([VIRTIO_BLK_S_OK, 1]);
    const d = disk(t);
    expect(d.subarray(2 * S, 4 * S).every((x) => x === 0)).toBe(true);
    expect(d.subarray(10 * S, 11 * S).every((x) => x === 0)).toBe(true);
    expect(d[4 * S]).toBe(0xaa);
    expect(d[11 * S]).toBe(0xaa);
    const rd = [{ addr: DATA + 0x1000, len: 2 * S }];
    expect((await t.request(VIRTIO_BLK_T_IN, 2, rd, true))[0]).toBe(VIRTIO_BLK_S_OK);
    const b = new Uint8Array(2 * S);
    t.memory.read(DATA + 0x1000, b);
    expect(b.every((x) => x === 0)).toBe(true);
  });

  it('discards and securely erases ranges', async () => {
    const t = rawRig({ backend: filled(), secureErase: true });
    expect((await t.request(VIRTIO_BLK_T_DISCARD, 0, rangesAt(t.memory, DATA, [{ sector: 0, num: 4 }])))[0]).toBe(VIRTIO_BLK_S_OK);
    expect((await t.request(VIRTIO_BLK_T_SECURE_ERASE, 0, rangesAt(t.memory, DATA, [{ sector: 8, num: 4 }])))[0]).toBe(VIRTIO_BLK_S_OK);
    expect(disk(t).subarray(8 * S, 12 * S).every((x) => x === 0)).toBe(true);
  });

  it('[blk.dev.17] answers UNSUPP for unknown flags on all three, and for unmap on a discard', async () => {
    const t = rawRig({ backend: filled(), secureErase: true });
    for (const type of [VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_SECURE_ERASE]) {
      for (const flags of [2, 0x80000000, 0xfffffffe]) {
        const r = rangesAt(t.memory, DATA, [{ sector: 0, num: 1 }, { sector: 4, num: 1, flags }]);
        expect((await t.request(type, 0, r))[0]).toBe(VIRTIO_BLK_S_UNSUPP);
      }
    }
    expect((await t.request(VIRTIO_BLK_T_DISCARD, 0, rangesAt(t.memory, DATA, [{ sector: 0, num: 1, flags: UNMAP }])))[0]).toBe(
      VIRTIO_BLK_S_UNSUPP,
    );
    expect(disk(t).every((x) => x === 0xaa)).toBe(true);
  });

  it('answers IOERR for misaligned ranges, ranges over max_*_sectors or beyond capacity, and bad lengths', async () => {
    const t = rawRig({ backend: filled(), blkSize: 4096, discard: { maxSectors: 64, maxSegments: 4 } });
    const bad = [
      [{ sector: 1, num: 8 }],
      [{ sector: 8, num: 9 }],
      [{ sector: 0, num: 72 }],
      [{ sector: 2040, num: 16 }],
      [{ sector: 2n ** 64n - 8n, num: 8 }],
    ];
    for (const r of bad) expect((await t.request(VIRTIO_BLK_T_DISCARD, 0, rangesAt(t.memory, DATA, r)))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_DISCARD, 0, [{ addr: DATA, len: 24 }]))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_DISCARD, 0, []))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, rangesAt(t.memory, DATA, [{ sector: 3, num: 8 }])))[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(disk(t).every((x) => x === 0xaa)).toBe(true);
  });

  it('answers UNSUPP for more segments than max_discard_seg', async () => {
    const t = rawRig({ backend: filled(), discard: { maxSegments: 2 } });
    const r = rangesAt(t.memory, DATA, [{ sector: 0, num: 1 }, { sector: 2, num: 1 }, { sector: 4, num: 1 }]);
    expect((await t.request(VIRTIO_BLK_T_DISCARD, 0, r))[0]).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(disk(t).every((x) => x === 0xaa)).toBe(true);
  });

  it('answers UNSUPP when the feature was not negotiated', async () => {
    const t = rawRig({ backend: filled(), wanted: BLK_DRIVER_FEATURES & ~featureMask(VIRTIO_BLK_F_DISCARD) });
    expect((await t.request(VIRTIO_BLK_T_DISCARD, 0, rangesAt(t.memory, DATA, [{ sector: 0, num: 1 }])))[0]).toBe(VIRTIO_BLK_S_UNSUPP);
    const u = rawRig({ backend: filled() });
    expect((await u.request(VIRTIO_BLK_T_SECURE_ERASE, 0, rangesAt(u.memory, DATA, [{ sector: 0, num: 1 }])))[0]).toBe(
      VIRTIO_BLK_S_UNSUPP,
    );
    expect(disk(u).every((x) => x === 0xaa)).toBe(true);
  });
});

describe('read-only', () => {
  it('[blk.dev.16] answers IOERR to every write-like request when VIRTIO_BLK_F_RO is offered, writing no data', async () => {
    const backend = new MemoryBackend({ data: pattern(1 << 20, 8) });
    const t = rawRig({ backend, readOnly: true, discard: true, writeZeroes: true, secureErase: true });
    t.memory.write(DATA, new Uint8Array(S).fill(1));
    expect(await t.request(VIRTIO_BLK_T_OUT, 0, [{ addr: DATA, len: S }])).toEqual([VIRTIO_BLK_S_IOERR, 1]);
    for (const type of [VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_SECURE_ERASE]) {
      expect((await t.request(type, 0, rangesAt(t.memory, DATA + S, [{ sector: 0, num: 8 }])))[0]).toBe(VIRTIO_BLK_S_IOERR);
    }
    expect(Buffer.compare(backend.data, pattern(1 << 20, 8))).toBe(0);
    expect((await t.request(VIRTIO_BLK_T_IN, 0, [{ addr: DATA, len: S }], true))[0]).toBe(VIRTIO_BLK_S_OK);
    expect((await t.request(VIRTIO_BLK_T_FLUSH, 0))[0]).toBe(VIRTIO_BLK_S_OK);
    expect(t.memory.readU8(STATUS)).toBe(VIRTIO_BLK_S_OK);
  });
});
