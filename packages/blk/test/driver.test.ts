// The driver side held to the spec's driver requirements (spec 5.2.5.1, 5.2.6.1).
import { describe, expect, it } from 'vitest';
import {
  featureMask,
  hasFeature,
  DeviceInitError,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  type DriverTransport,
} from '@virtio/core';
import {
  BlkConfigOffset,
  BlkDevice,
  BlkDriver,
  MemoryBackend,
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_ZONED,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_T_DISCARD,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_WRITE_ZEROES,
  VIRTIO_BLK_T_SECURE_ERASE,
} from '../src/index.js';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { LoopbackTransport } from '@virtio/core/testing';
import { DATA_BASE, rig, seg } from './harness.js';
import { RecordingDevice } from './recording-device.js';

const S = 512;

function recorded(opts: Parameters<typeof rig>[0] = {}, extra = 0n, zonedModel?: number) {
  let rec!: RecordingDevice;
  const t = rig({ ...opts, wrap: (d) => (rec = new RecordingDevice(d, extra, zonedModel)) });
  return { ...t, rec };
}

/** Records the device status whenever the driver reads the configuration space. */
class StatusAtConfigRead {
  readonly reads: { offset: number; status: number }[] = [];
  wrap(inner: DriverTransport): DriverTransport {
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        if (prop === 'readConfig') {
          return (offset: number, width: 1 | 2 | 4) => {
            this.reads.push({ offset, status: target.getStatus() });
            return target.readConfig(offset, width);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}

describe('driver requirements', () => {
  it('[blk.drv.3] never reads writeback before FEATURES_OK is set', async () => {
    const t = rig();
    const spy = new StatusAtConfigRead();
    const drv = new BlkDriver(spy.wrap(t.transport), { memory: t.memory, allocator: t.allocator });
    const wb = spy.reads.filter((r) => r.offset === BlkConfigOffset.writeback);
    expect(wb.length).toBeGreaterThan(0);
    for (const r of wb) expect(r.status & VIRTIO_CONFIG_S_FEATURES_OK).toBe(VIRTIO_CONFIG_S_FEATURES_OK);
    expect(drv.config.writeback).toBe(true);
  });

  it('[blk.drv.10] refuses requests beyond capacity without sending them', async () => {
    const t = recorded();
    const cap = t.driver.config.capacity;
    await expect(t.driver.read(cap, seg(DATA_BASE, S))).rejects.toThrow(RangeError);
    await expect(t.driver.write(cap - 1, seg(DATA_BASE, 2 * S))).rejects.toThrow(RangeError);
    await expect(t.driver.read(2 ** 60, seg(DATA_BASE, S))).rejects.toThrow(RangeError);
    await expect(t.driver.writeZeroes([{ sector: cap, numSectors: 1 }], false)).rejects.toThrow(RangeError);
    expect(t.rec.requests).toEqual([]);
    expect(await t.driver.read(cap - 1, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
    expect(t.rec.requests.length).toBe(1);
  });

  it('[blk.drv.13] refuses IN and OUT data that is not a multiple of 512 bytes', async () => {
    const t = recorded();
    await expect(t.driver.read(0, seg(DATA_BASE, 511))).rejects.toThrow(/multiple of 512/);
    await expect(t.driver.write(0, [{ addr: DATA_BASE, len: 512 }, { addr: DATA_BASE + 0x1000, len: 1 }])).rejects.toThrow(/multiple of 512/);
    expect(t.rec.requests).toEqual([]);
  });

  it('[blk.drv.12] sends FLUSH with sector 0 and no data', async () => {
    const t = recorded();
    expect(await t.driver.flush()).toBe(VIRTIO_BLK_S_OK);
    expect(t.rec.requests).toEqual([{ type: VIRTIO_BLK_T_FLUSH, sector: 0n, reserved: 0, payload: new Uint8Array(0), readableLength: 16, writableLength: 1 }]);
  });

  it('[blk.drv.15] sends GET_ID with exactly 20 bytes of data', async () => {
    const t = recorded({ id: 'x' });
    expect((await t.driver.getId()).id).toBe('x');
    expect(t.rec.requests[0]).toMatchObject({ type: VIRTIO_BLK_T_GET_ID, readableLength: 16, writableLength: 21 });
  });

  it('[blk.drv.14] [blk.drv.20] sends discard-like data as whole 16-byte segments, unmap clear on discards', async () => {
    const t = recorded({ secureErase: true });
    const ranges = [{ sector: 1, numSectors: 2 }, { sector: 9, numSectors: 3 }];
    expect(await t.driver.discard(ranges)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.writeZeroes(ranges, true)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.secureErase(ranges)).toBe(VIRTIO_BLK_S_OK);
    const [d, wz, se] = t.rec.requests;
    expect([d.type, wz.type, se.type]).toEqual([VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_SECURE_ERASE]);
    for (const r of [d, wz, se]) {
      expect(r.payload.length).toBe(32);
      const dv = new DataView(r.payload.buffer, r.payload.byteOffset);
      expect([Number(dv.getBigUint64(0, true)), dv.getUint32(8, true), Number(dv.getBigUint64(16, true)), dv.getUint32(24, true)]).toEqual([1, 2, 9, 3]);
      expect([dv.getUint32(12, true), dv.getUint32(28, true)]).toEqual(r === wz ? [1, 1] : [0, 0]);
    }
  });

  it('[blk.drv.21] a multi-segment DISCARD or WRITE_ZEROES failing with IOERR is one failed request: no per-segment outcome, no retry of its segments', async () => {
    // blk_size 4096: every segment must be 8-sector aligned; the second one is not.
    const t = recorded({ blkSize: 4096 });
    const ranges = [{ sector: 0, numSectors: 8 }, { sector: 3, numSectors: 8 }];
    const before = t.rec.requests.length;
    expect(await t.driver.discard(ranges)).toBe(VIRTIO_BLK_S_IOERR);
    expect(await t.driver.writeZeroes(ranges, false)).toBe(VIRTIO_BLK_S_IOERR);
    expect(t.rec.requests.slice(before).map((r) => r.type)).toEqual([VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES]);
  });

  it('[blk.drv.16] [blk.drv.17] [blk.drv.18] never sends more segments than max_*_seg', async () => {
    const t = recorded({ discard: { maxSegments: 2 }, writeZeroes: { maxSegments: 1 }, secureErase: { maxSegments: 3 } });
    const r = (n: number) => Array.from({ length: n }, (_, i) => ({ sector: i * 4, numSectors: 1 }));
    await expect(t.driver.discard(r(3))).rejects.toThrow(RangeError);
    await expect(t.driver.writeZeroes(r(2), false)).rejects.toThrow(RangeError);
    await expect(t.driver.secureErase(r(4))).rejects.toThrow(RangeError);
    expect(t.rec.requests).toEqual([]);
    expect(await t.driver.discard(r(2))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.writeZeroes(r(1), false)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.secureErase(r(3))).toBe(VIRTIO_BLK_S_OK);
  });

  it('[blk.drv.11] accepts VIRTIO_BLK_F_RO when offered', () => {
    const t = rig({ readOnly: true });
    expect(hasFeature(t.driver.features, VIRTIO_BLK_F_RO)).toBe(true);
    expect(t.driver.config.readOnly).toBe(true);
  });

  it('[blk.drv.4] never accepts VIRTIO_BLK_F_ZONED, even when asked to and offered', () => {
    for (const model of [0, 2]) {
      const t = recorded({ driverFeatures: featureMask(VIRTIO_BLK_F_ZONED, VIRTIO_BLK_F_DISCARD) }, featureMask(VIRTIO_BLK_F_ZONED), model);
      expect(hasFeature(t.driver.features, VIRTIO_BLK_F_ZONED)).toBe(false);
      expect(hasFeature(t.driver.features, VIRTIO_BLK_F_DISCARD)).toBe(true);
    }
  });

  it('[blk.drv.5] [blk.drv.7] refuses a host-managed zoned device: FAILED, never FEATURES_OK, DISCARD never accepted', () => {
    const memory = new FlatGuestMemory(new Uint8Array(1 << 20));
    const rec = new RecordingDevice(new BlkDevice({ backend: new MemoryBackend() }), featureMask(VIRTIO_BLK_F_ZONED), 1);
    const accepted: bigint[] = [];
    rec.validateFeatures = (f) => (accepted.push(f), true);
    const transport = new LoopbackTransport(rec, { memory, transport: 'mmio' });
    expect(() => new BlkDriver(transport, { memory, allocator: new BumpAllocator(0, 1 << 20) })).toThrow(DeviceInitError);
    expect(transport.getStatus() & VIRTIO_CONFIG_S_FAILED).toBe(VIRTIO_CONFIG_S_FAILED);
    expect(transport.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
    expect(accepted).toEqual([]);
  });

  it('[blk.drv.9] re-reads capacity after a configuration change notification', async () => {
    const backend = new MemoryBackend({ size: 1 << 20 });
    const t = rig({ backend });
    expect(t.driver.config.capacity).toBe(2048);
    (backend as { data: Uint8Array }).data = new Uint8Array(2 << 20);
    t.device.resize();
    await Promise.resolve();
    expect(t.driver.config.capacity).toBe(4096);
    expect(await t.driver.read(4095, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
  });
});

describe('driver mechanics', () => {
  it('waits for free descriptors when more requests are submitted than the ring holds', async () => {
    const t = rig({ queueSize: 8 });
    const all = [];
    for (let i = 0; i < 100; i++) all.push(t.driver.read(i, seg(DATA_BASE + i * S, S)));
    expect(await Promise.all(all)).toEqual(new Array(100).fill(VIRTIO_BLK_S_OK));
  });

  it('rejects outstanding requests when the driver resets the device', async () => {
    const { GatedBackend, settle } = await import('./gated-backend.js');
    const gated = new GatedBackend(new MemoryBackend());
    const t = rig({ backend: gated });
    const r = t.driver.read(0, seg(DATA_BASE, S));
    await settle();
    const reset = t.driver.reset();
    await expect(r).rejects.toThrow(/reset/);
    await gated.pending[0].release();
    await reset;
    await expect(t.driver.read(0, seg(DATA_BASE, S))).rejects.toThrow(/reset/);
  });
});
