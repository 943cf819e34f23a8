// struct virtio_blk_config, feature offers and the cache mode (spec 5.2.3 - 5.2.5).
import { describe, expect, it } from 'vitest';
import { featureMask, hasFeature } from '@virtio/core';
import {
  BLK_DRIVER_FEATURES,
  BlkConfigOffset as O,
  BlkDevice,
  MemoryBackend,
  VIRTIO_BLK_CONFIG_SIZE,
  VIRTIO_BLK_F_CONFIG_WCE,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_GEOMETRY,
  VIRTIO_BLK_F_SIZE_MAX,
  VIRTIO_BLK_F_TOPOLOGY,
  VIRTIO_BLK_F_ZONED,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_T_OUT,
  type BlkDeviceOptions,
} from '../src/index.js';
import { DATA_BASE, rig, seg } from './harness.js';
import { GatedBackend, settle } from './gated-backend.js';
import { DATA, rawRig, STATUS } from './raw.js';

const backend = () => new MemoryBackend({ size: 3 << 20 });
const OPTION_SETS: Partial<BlkDeviceOptions>[] = [
  {},
  { readOnly: true },
  { numQueues: 8, queueSize: 1024, blkSize: 4096, writeback: false },
  { sizeMax: 65536, segMax: 7, geometry: { cylinders: 100, heads: 16, sectors: 63 }, topology: { physicalBlockExp: 3, minIoSize: 8, optIoSize: 256 } },
  { discard: false, writeZeroes: false, secureErase: { maxSectors: 8, maxSegments: 2 } },
];

describe('configuration layout', () => {
  it('lays out struct virtio_blk_config as the spec does', () => {
    const d = new BlkDevice({
      backend: backend(),
      numQueues: 3,
      queueSize: 128,
      blkSize: 4096,
      sizeMax: 1 << 16,
      geometry: { cylinders: 0x1234, heads: 16, sectors: 63 },
      topology: { physicalBlockExp: 1, alignmentOffset: 2, minIoSize: 8, optIoSize: 0x10000 },
      discard: { maxSectors: 100, maxSegments: 5 },
      writeZeroes: { maxSectors: 200, maxSegments: 6 },
      secureErase: { maxSectors: 300, maxSegments: 7 },
    });
    expect(d.configSize).toBe(VIRTIO_BLK_CONFIG_SIZE);
    expect(VIRTIO_BLK_CONFIG_SIZE).toBe(96);
    const f = d.deviceFeatures;
    for (const bit of [VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_GEOMETRY, VIRTIO_BLK_F_TOPOLOGY]) expect(hasFeature(f, bit)).toBe(true);
    const r = (o: number, w: 1 | 2 | 4) => d.readConfig(o, w);
    expect([r(0, 4), r(4, 4)]).toEqual([(3 << 20) / 512, 0]);
    expect(r(O.size_max, 4)).toBe(1 << 16);
    expect(r(O.seg_max, 4)).toBe(126);
    expect([r(16, 2), r(18, 1), r(19, 1)]).toEqual([0x1234, 16, 63]);
    expect(r(20, 4)).toBe(4096);
    expect([r(24, 1), r(25, 1), r(26, 2), r(28, 4)]).toEqual([1, 2, 8, 0x10000]);
    expect(r(32, 1)).toBe(1);
    expect(r(34, 2)).toBe(3);
    expect([r(36, 4), r(40, 4), r(44, 4)]).toEqual([100, 5, 8]);
    expect([r(48, 4), r(52, 4), r(56, 1)]).toEqual([200, 6, 0]);
    expect([r(60, 4), r(64, 4), r(68, 4)]).toEqual([300, 7, 8]);
    expect(d.queueMaxSize(2)).toBe(128);
    expect(d.queueMaxSize(3)).toBe(0);
  });

  it('[blk.dev.3] [blk.dev.14] keeps the padding unused0, unused1 and unused2 zero, whatever is written', () => {
    for (const opts of OPTION_SETS) {
      const d = new BlkDevice({ backend: backend(), ...opts });
      for (const o of [O.unused0, O.unused1, O.unused1 + 1, O.unused1 + 2, O.zoned_unused2, O.zoned_unused2 + 1, O.zoned_unused2 + 2]) {
        d.writeConfig(o, 1, 0xff);
        expect(d.readConfig(o, 1)).toBe(0);
      }
      d.writeConfig(O.writeback, 4, 0xffffffff);
      expect(d.readConfig(O.unused0, 1)).toBe(0);
    }
  });

  it('[blk.dev.1] offers VIRTIO_BLK_F_FLUSH whenever it offers VIRTIO_BLK_F_CONFIG_WCE', () => {
    for (const opts of OPTION_SETS) {
      const f = new BlkDevice({ backend: backend(), ...opts }).deviceFeatures;
      expect(hasFeature(f, VIRTIO_BLK_F_CONFIG_WCE)).toBe(true);
      expect(hasFeature(f, VIRTIO_BLK_F_FLUSH)).toBe(true);
    }
  });

  it('refuses options outside the fields (a programming error)', () => {
    expect(() => new BlkDevice({ backend: backend(), blkSize: 1000 })).toThrow(RangeError);
    expect(() => new BlkDevice({ backend: backend(), numQueues: 0 })).toThrow(RangeError);
    expect(() => new BlkDevice({ backend: backend(), discard: { maxSectors: 2 ** 32 } })).toThrow(RangeError);
  });
});

describe('cache mode (writeback)', () => {
  it('[blk.dev.2] initializes writeback to 0 when CONFIG_WCE is negotiated without FLUSH, and writes through', async () => {
    const gated = new GatedBackend(new MemoryBackend());
    const t = rawRig({ backend: gated, writeback: true, wanted: BLK_DRIVER_FEATURES & ~featureMask(VIRTIO_BLK_F_FLUSH) });
    expect(hasFeature(t.dev.features, VIRTIO_BLK_F_CONFIG_WCE)).toBe(true);
    expect(t.dev.readConfig((c) => c.u8(O.writeback))).toBe(0);
    t.q.add([t.header(VIRTIO_BLK_T_OUT, 0), { addr: DATA, len: 512 }], [t.status()], 1);
    t.dev.kick(0);
    await settle();
    await gated.pending[0].release();
    await settle();
    expect(t.memory.readU8(STATUS)).toBe(0xff);
    expect(gated.pending.map((c) => c.op)).toEqual(['flush']);
    await gated.pending[0].release();
    await settle();
    expect(t.memory.readU8(STATUS)).toBe(VIRTIO_BLK_S_OK);
  });

  it('starts in the configured mode with FLUSH and CONFIG_WCE, and the driver toggles it', async () => {
    const t = rig({ writeback: false });
    expect(t.driver.config.writeback).toBe(false);
    expect(t.device.writebackCache).toBe(false);
    expect(await t.driver.setWriteback(true)).toBe(VIRTIO_BLK_S_OK);
    expect(t.device.writebackCache).toBe(true);
    expect(t.driver.config.writeback).toBe(true);
    t.driver.device.writeConfig(O.writeback, 1, 7);
    expect(t.device.readConfig(O.writeback, 1)).toBe(1);
  });

  it('ignores writes to writeback unless CONFIG_WCE was negotiated, and restores it at reset', () => {
    const t = rawRig({ wanted: BLK_DRIVER_FEATURES & ~featureMask(VIRTIO_BLK_F_CONFIG_WCE) });
    t.device.writeConfig(O.writeback, 1, 0);
    expect(t.device.readConfig(O.writeback, 1)).toBe(1);
    const u = rawRig();
    u.device.writeConfig(O.writeback, 1, 0);
    expect(u.device.readConfig(O.writeback, 1)).toBe(0);
    u.transport.setStatus(0);
    expect(u.device.readConfig(O.writeback, 1)).toBe(1);
  });
});

describe('devices that are not zoned (zoned devices: zoned.test.ts)', () => {
  // Without the `zoned` option the device is not zoned, so it must never offer the bit (and so
  // never operates with a model other than VIRTIO_BLK_Z_NONE) and refuses FEATURES_OK if a driver accepts it.
  it('[blk.dev.4] [blk.dev.8] never offers VIRTIO_BLK_F_ZONED, refuses it at FEATURES_OK, zoned fields read 0', () => {
    for (const opts of OPTION_SETS) {
      const d = new BlkDevice({ backend: backend(), ...opts });
      expect(hasFeature(d.deviceFeatures, VIRTIO_BLK_F_ZONED)).toBe(false);
      expect(d.validateFeatures(d.deviceFeatures | featureMask(VIRTIO_BLK_F_ZONED))).toBe(false);
      expect(d.validateFeatures(d.deviceFeatures)).toBe(true);
      for (let o = O.zoned_zone_sectors; o < VIRTIO_BLK_CONFIG_SIZE; o += 4) expect(d.readConfig(o, 4)).toBe(0);
    }
  });
});

describe('write_zeroes_may_unmap', () => {
  it('[blk.dev.20] is set only when the backend can deallocate', () => {
    const plain = new BlkDevice({ backend: backend() });
    expect(plain.readConfig(O.write_zeroes_may_unmap, 1)).toBe(0);
    const punching = Object.assign(backend(), { deallocates: true });
    expect(new BlkDevice({ backend: punching }).readConfig(O.write_zeroes_may_unmap, 1)).toBe(1);
    expect(new BlkDevice({ backend: punching, writeZeroes: false }).readConfig(O.write_zeroes_may_unmap, 1)).toBe(0);
  });
});

describe('driver view of the cache', () => {
  it('[blk.drv.2] assumes writeback with FLUSH but no CONFIG_WCE, writethrough with neither', () => {
    const noWce = rig({ driverFeatures: BLK_DRIVER_FEATURES & ~featureMask(VIRTIO_BLK_F_CONFIG_WCE) });
    expect(noWce.driver.config.writeback).toBe(true);
    const neither = rig({ driverFeatures: BLK_DRIVER_FEATURES & ~featureMask(VIRTIO_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_FLUSH) });
    expect(neither.driver.config.writeback).toBe(false);
    expect(neither.device.writebackCache).toBe(false);
  });
});

describe('capacity changes', () => {
  it('[blk.dev.15] sends a configuration change notification when capacity changes', async () => {
    const b = new MemoryBackend({ size: 1 << 20 });
    const t = rig({ backend: b });
    const before = t.state.configGeneration;
    (b as { data: Uint8Array }).data = new Uint8Array(4 << 20);
    t.device.resize();
    expect(t.state.configGeneration).not.toBe(before);
    await Promise.resolve();
    expect(t.driver.config.capacity).toBe(8192);
    expect(await t.driver.write(8191, seg(DATA_BASE, 512))).toBe(VIRTIO_BLK_S_OK);
  });
});
