// The zoned block device model (VIRTIO_BLK_F_ZONED) from a hand-built driver, and our driver's
// zone requests against it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DeviceInitError, featureMask, hasFeature } from '@virtio/core';
import type { LoopbackTransport } from '@virtio/core/testing';
import {
  BLK_DRIVER_FEATURES,
  BlkConfigOffset as O,
  BlkDevice,
  BlkDriver,
  MemoryBackend,
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_SECURE_ERASE,
  VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_BLK_F_ZONED,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE,
  VIRTIO_BLK_S_ZONE_INVALID_CMD,
  VIRTIO_BLK_S_ZONE_OPEN_RESOURCE,
  VIRTIO_BLK_S_ZONE_UNALIGNED_WP,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_ZONE_APPEND,
  VIRTIO_BLK_T_ZONE_CLOSE,
  VIRTIO_BLK_T_ZONE_FINISH,
  VIRTIO_BLK_T_ZONE_OPEN,
  VIRTIO_BLK_T_ZONE_REPORT,
  VIRTIO_BLK_T_ZONE_RESET,
  VIRTIO_BLK_T_ZONE_RESET_ALL,
  VIRTIO_BLK_Z_HA,
  VIRTIO_BLK_Z_HM,
  VIRTIO_BLK_ZS_CLOSED,
  VIRTIO_BLK_ZS_EMPTY,
  VIRTIO_BLK_ZS_EOPEN,
  VIRTIO_BLK_ZS_FULL,
  VIRTIO_BLK_ZS_IOPEN,
  VIRTIO_BLK_ZS_NOT_WP,
  VIRTIO_BLK_ZS_OFFLINE,
  VIRTIO_BLK_ZS_RDONLY,
  VIRTIO_BLK_ZT_CONV,
  VIRTIO_BLK_ZT_SWR,
  type BlkZonedOptions,
} from '../src/index.js';
import { DATA_BASE, pattern, rig, seg } from './harness.js';
import { DATA, rawRig, STATUS } from './raw.js';
import { RecordingDevice } from './recording-device.js';

const S = 512;
/** Sectors per zone: 1 MiB disks have 32 zones, the first two conventional. */
const ZS = 64;
const ZONED = featureMask(VIRTIO_BLK_F_ZONED);
const HM: BlkZonedOptions = { model: 'host-managed', zoneSectors: ZS, conventionalZones: 2 };
const zone = (i: number) => i * ZS;

/** A hand-built driver that accepted VIRTIO_BLK_F_ZONED, on a host-managed (or `zoned`) device. */
function raw(zoned: Partial<BlkZonedOptions> = {}, size = 1 << 20) {
  const backend = new MemoryBackend({ data: pattern(size, 3) });
  const t = rawRig({ backend, zoned: { ...HM, ...zoned }, wanted: BLK_DRIVER_FEATURES | ZONED });
  const zones = t.device.zones!;
  /** OUT of `sectors` sectors at `sector`: status. */
  const write = async (sector: number, sectors: number) => (await t.request(VIRTIO_BLK_T_OUT, sector, sectors ? [{ addr: DATA, len: sectors * S }] : []))[0];
  const read = async (sector: number, sectors: number) => (await t.request(VIRTIO_BLK_T_IN, sector, [{ addr: DATA, len: sectors * S }], true))[0];
  const op = async (type: number, sector: number) => (await t.request(type, sector))[0];
  /** ZONE_APPEND: [status, append_sector]. */
  const append = async (sector: number, sectors: number) => {
    t.memory.writeU64(STATUS - 8, 0xdeadn);
    await t.submit([t.header(VIRTIO_BLK_T_ZONE_APPEND, sector), { addr: DATA, len: sectors * S }], [{ addr: STATUS - 8, len: 8 }, t.status()]);
    return [t.memory.readU8(STATUS), Number(t.memory.readU64(STATUS - 8))] as const;
  };
  /** ZONE_REPORT into a buffer of `len` bytes: status and the descriptors' [type, state, wp, cap, start]. */
  const report = async (sector: number, len = 64 + 64 * 40) => {
    const [status] = await t.request(VIRTIO_BLK_T_ZONE_REPORT, sector, [{ addr: DATA, len }], true);
    const n = Number(t.memory.readU64(DATA));
    const zs = [];
    for (let i = 0; i < n; i++) {
      const d = DATA + 64 + i * 64;
      zs.push({ cap: Number(t.memory.readU64(d)), start: Number(t.memory.readU64(d + 8)), wp: t.memory.readU64(d + 16), type: t.memory.readU8(d + 24), state: t.memory.readU8(d + 25) });
    }
    return { status, zones: zs };
  };
  const state = async (i: number) => (await report(zone(i), 128)).zones[0].state;
  return { ...t, backend, zones, write, read, op, append, report, state };
}

describe('zoned device: configuration and negotiation', () => {
  it('[blk.dev.9] [blk.dev.10] [blk.dev.11] [blk.dev.12] [blk.dev.13] zoned characteristics: zone size, limits, append size, write granularity, model', async () => {
    const d = new BlkDevice({ backend: new MemoryBackend({ size: 1 << 20 }), blkSize: 4096, zoned: { ...HM, maxOpenZones: 3, maxActiveZones: 5, maxAppendSectors: 32 } });
    expect(hasFeature(d.deviceFeatures, VIRTIO_BLK_F_ZONED)).toBe(true);
    expect([O.zoned_zone_sectors, O.zoned_max_open_zones, O.zoned_max_active_zones, O.zoned_max_append_sectors, O.zoned_write_granularity].map((o) => d.readConfig(o, 4))).toEqual([ZS, 3, 5, 32, 4096]);
    expect(d.readConfig(O.zoned_model, 1)).toBe(VIRTIO_BLK_Z_HM);
    // A disk that is not a whole number of zones: its last zone is smaller.
    const t = raw({}, (1 << 20) - 16 * S);
    const r = await t.report(zone(31));
    expect(r.zones).toMatchObject([{ start: zone(31), cap: ZS - 16, type: VIRTIO_BLK_ZT_SWR }]);
    expect(t.zones.nrZones).toBe(32);
    // Unlimited open and active zones read 0; ZONE_APPEND up to a zone by default.
    const u = new BlkDevice({ backend: new MemoryBackend({ size: 1 << 20 }), zoned: HM });
    expect([O.zoned_max_open_zones, O.zoned_max_active_zones, O.zoned_max_append_sectors, O.zoned_write_granularity].map((o) => u.readConfig(o, 4))).toEqual([0, 0, ZS, 512]);
  });

  it('[blk.dev.5] [blk.dev.7] a host-managed device refuses FEATURES_OK without VIRTIO_BLK_F_ZONED', () => {
    const d = new BlkDevice({ backend: new MemoryBackend({ size: 1 << 20 }), zoned: HM });
    expect(d.validateFeatures(d.deviceFeatures & ~ZONED)).toBe(false);
    expect(d.validateFeatures(d.deviceFeatures)).toBe(true);
    expect(() => rawRig({ backend: new MemoryBackend({ size: 1 << 20 }), zoned: HM, wanted: BLK_DRIVER_FEATURES })).toThrow(DeviceInitError);
  });

  it('[blk.dev.6] [blk.drv.8] a host-aware device whose driver refuses ZONED is a plain disk: zoned fields 0, random writes, no zone requests', async () => {
    const t = rig({ zoned: { model: 'host-aware', zoneSectors: ZS } });
    expect(hasFeature(t.driver.features, VIRTIO_BLK_F_ZONED)).toBe(false);
    expect(t.driver.config.zoned).toBeUndefined();
    for (let o = O.zoned_zone_sectors; o <= O.zoned_model; o += 4) expect(t.device.readConfig(o, 4)).toBe(0);
    t.memory.write(DATA_BASE, pattern(2 * S, 9));
    expect(await t.driver.write(zone(3) + 7, seg(DATA_BASE, 2 * S))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.write(zone(3) + 1, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
    await expect(t.driver.zoneOpen(zone(3))).rejects.toThrow(/not negotiated/);
    // Reset and FEATURES_OK again with ZONED accepted: the characteristics are back.
    const z = rig({ zoned: { model: 'host-aware', zoneSectors: ZS }, driverZoned: true });
    expect(z.driver.config.zoned).toMatchObject({ model: VIRTIO_BLK_Z_HA, zoneSectors: ZS, maxAppendSectors: 0 });
  });

  it('[blk.dev.44] [blk.dev.45] [blk.dev.46] a zoned device never offers SECURE_ERASE; a host-managed one no DISCARD or WRITE_ZEROES', () => {
    const hm = new BlkDevice({ backend: new MemoryBackend({ size: 1 << 20 }), zoned: HM, secureErase: true, discard: true, writeZeroes: true });
    expect([VIRTIO_BLK_F_SECURE_ERASE, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES].map((b) => hasFeature(hm.deviceFeatures, b))).toEqual([false, false, false]);
    const ha = new BlkDevice({ backend: new MemoryBackend({ size: 1 << 20 }), zoned: { model: 'host-aware', zoneSectors: ZS }, secureErase: true });
    expect([VIRTIO_BLK_F_SECURE_ERASE, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES].map((b) => hasFeature(ha.deviceFeatures, b))).toEqual([false, true, true]);
  });
});

describe('zoned device: requests', () => {
  it('[blk.dev.31] [blk.dev.33] [blk.dev.38] writes go to the write pointer, open the zone implicitly, fill it, never pass its capacity', async () => {
    const t = raw({ zoneCapacity: 48 });
    expect(await t.state(2)).toBe(VIRTIO_BLK_ZS_EMPTY);
    expect(await t.write(zone(2), 8)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.state(2)).toBe(VIRTIO_BLK_ZS_IOPEN);
    expect(await t.write(zone(2), 8)).toBe(VIRTIO_BLK_S_ZONE_UNALIGNED_WP); // behind the write pointer
    expect(await t.write(zone(2) + 16, 8)).toBe(VIRTIO_BLK_S_ZONE_UNALIGNED_WP); // ahead of it
    expect(await t.write(zone(2) + 8, 41)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD); // past z_cap (48)
    expect(await t.write(zone(2) + 8, 40)).toBe(VIRTIO_BLK_S_OK);
    const r = await t.report(zone(2), 128);
    expect(r.zones[0]).toMatchObject({ state: VIRTIO_BLK_ZS_FULL, cap: 48, wp: 0xffffffffffffffffn });
    expect(await t.write(zone(2) + 48, 1)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    // Conventional zones take writes anywhere.
    expect(await t.write(zone(0) + 5, 3)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(0) + 1, 1)).toBe(VIRTIO_BLK_S_OK);
  });

  it('[blk.dev.38] writes must end on write_granularity', async () => {
    const t = raw({ writeGranularity: 4096 });
    expect(await t.write(zone(4), 4)).toBe(VIRTIO_BLK_S_ZONE_UNALIGNED_WP);
    expect(await t.write(zone(4), 8)).toBe(VIRTIO_BLK_S_OK);
  });

  it('[blk.dev.26] [blk.dev.32] [blk.dev.34] [blk.dev.35] [blk.dev.36] ZONE_APPEND: at the write pointer, reported in append_sector; only to SWR zone starts, within max_append_sectors', async () => {
    const t = raw({ maxAppendSectors: 16 });
    t.memory.write(DATA, pattern(16 * S, 5));
    expect(await t.append(zone(3), 4)).toEqual([VIRTIO_BLK_S_OK, zone(3)]);
    expect(await t.append(zone(3), 16)).toEqual([VIRTIO_BLK_S_OK, zone(3) + 4]);
    expect(Buffer.compare(t.backend.data.subarray((zone(3) + 4) * S, (zone(3) + 20) * S), pattern(16 * S, 5))).toBe(0);
    expect(await t.write(zone(3) + 20, 1)).toBe(VIRTIO_BLK_S_OK); // the write pointer moved by both
    expect((await t.append(zone(3) + 1, 1))[0]).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect((await t.append(zone(1), 1))[0]).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD); // conventional
    expect((await t.append(zone(3), 17))[0]).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect((await t.append(2 ** 40, 1))[0]).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    // max_append_sectors 0: ZONE_APPEND is unsupported.
    const none = raw({ maxAppendSectors: 0 });
    expect((await none.append(zone(3), 1))[0]).toBe(VIRTIO_BLK_S_UNSUPP);
  });

  it('[blk.dev.37] IN, OUT and ZONE_APPEND ranges spanning sequential zones are ZONE_INVALID_CMD; conventional ones may span', async () => {
    const t = raw();
    expect(await t.read(zone(3) - 2, 4)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect(await t.write(zone(3), ZS)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(4) - 2, 4)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect((await t.append(zone(5), ZS + 1))[0]).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect(await t.read(zone(1) - 2, 4)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(1) - 2, 4)).toBe(VIRTIO_BLK_S_OK);
  });

  it('[blk.dev.25] zone management of a conventional zone is ZONE_INVALID_CMD', async () => {
    const t = raw();
    for (const type of [VIRTIO_BLK_T_ZONE_OPEN, VIRTIO_BLK_T_ZONE_CLOSE, VIRTIO_BLK_T_ZONE_FINISH, VIRTIO_BLK_T_ZONE_RESET]) {
      expect(await t.op(type, zone(1))).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    }
    expect((await t.report(0)).zones.slice(0, 3).map((z) => [z.type, z.state])).toEqual([
      [VIRTIO_BLK_ZT_CONV, VIRTIO_BLK_ZS_NOT_WP],
      [VIRTIO_BLK_ZT_CONV, VIRTIO_BLK_ZS_NOT_WP],
      [VIRTIO_BLK_ZT_SWR, VIRTIO_BLK_ZS_EMPTY],
    ]);
  });

  it('[blk.dev.27] [blk.dev.28] [blk.dev.29] [blk.dev.30] open, close, finish and reset follow the zone state machine', async () => {
    const t = raw();
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.state(4)).toBe(VIRTIO_BLK_ZS_EOPEN);
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.op(VIRTIO_BLK_T_ZONE_CLOSE, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.state(4)).toBe(VIRTIO_BLK_ZS_EMPTY); // nothing written: empty again
    expect(await t.op(VIRTIO_BLK_T_ZONE_CLOSE, zone(4))).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD); // an empty zone cannot close
    expect(await t.write(zone(4), 2)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.op(VIRTIO_BLK_T_ZONE_CLOSE, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.state(4)).toBe(VIRTIO_BLK_ZS_CLOSED);
    expect(await t.op(VIRTIO_BLK_T_ZONE_CLOSE, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(4) + 2, 2)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.state(4)).toBe(VIRTIO_BLK_ZS_IOPEN);
    expect(await t.op(VIRTIO_BLK_T_ZONE_FINISH, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.state(4)).toBe(VIRTIO_BLK_ZS_FULL);
    expect(await t.op(VIRTIO_BLK_T_ZONE_FINISH, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(4))).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD); // a full zone cannot open
    expect(await t.op(VIRTIO_BLK_T_ZONE_CLOSE, zone(4))).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect(await t.op(VIRTIO_BLK_T_ZONE_RESET, zone(4))).toBe(VIRTIO_BLK_S_OK);
    expect((await t.report(zone(4), 128)).zones[0]).toMatchObject({ state: VIRTIO_BLK_ZS_EMPTY, wp: BigInt(zone(4)) });
    expect(await t.op(VIRTIO_BLK_T_ZONE_RESET, zone(4))).toBe(VIRTIO_BLK_S_OK); // empty stays empty
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(4) + 1)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD); // not a zone start
    // Reset all empties every sequential zone.
    await t.write(zone(5), 1);
    await t.op(VIRTIO_BLK_T_ZONE_FINISH, zone(6));
    expect(await t.op(VIRTIO_BLK_T_ZONE_RESET_ALL, 0)).toBe(VIRTIO_BLK_S_OK);
    expect((await t.report(zone(2))).zones.every((z) => z.state === VIRTIO_BLK_ZS_EMPTY)).toBe(true);
    expect(t.zones.counters).toEqual({ open: 0, active: 0 });
  });

  it('[blk.dev.27] [blk.dev.31] [blk.dev.39] open and active limits: implicitly open zones close to make room, else the resource statuses (active first)', async () => {
    const t = raw({ maxOpenZones: 2, maxActiveZones: 3 });
    expect(await t.write(zone(2), 1)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(3), 1)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(4), 1)).toBe(VIRTIO_BLK_S_OK); // zone 2 closed implicitly
    expect([await t.state(2), await t.state(3), await t.state(4)]).toEqual([VIRTIO_BLK_ZS_CLOSED, VIRTIO_BLK_ZS_IOPEN, VIRTIO_BLK_ZS_IOPEN]);
    expect(await t.write(zone(5), 1)).toBe(VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE); // 3 active already
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(5))).toBe(VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE);
    expect(await t.state(5)).toBe(VIRTIO_BLK_ZS_EMPTY);
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(2))).toBe(VIRTIO_BLK_S_OK); // closed -> explicitly open, zone 3 closes
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(3))).toBe(VIRTIO_BLK_S_OK); // zone 4 closes
    expect(await t.op(VIRTIO_BLK_T_ZONE_OPEN, zone(4))).toBe(VIRTIO_BLK_S_ZONE_OPEN_RESOURCE); // both open explicitly
    expect(await t.write(zone(4) + 1, 1)).toBe(VIRTIO_BLK_S_ZONE_OPEN_RESOURCE);
    expect([await t.state(2), await t.state(3), await t.state(4)]).toEqual([VIRTIO_BLK_ZS_EOPEN, VIRTIO_BLK_ZS_EOPEN, VIRTIO_BLK_ZS_CLOSED]);
    expect(t.zones.counters).toEqual({ open: 2, active: 3 });
    expect(await t.op(VIRTIO_BLK_T_ZONE_FINISH, zone(2))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(4) + 1, 1)).toBe(VIRTIO_BLK_S_OK);
  });

  it('[blk.dev.40] [blk.dev.41] read-only zones are read but not written; offline zones neither', async () => {
    const t = raw();
    await t.write(zone(6), 4);
    t.zones.fail(zone(6), VIRTIO_BLK_ZS_RDONLY);
    t.zones.fail(zone(7), VIRTIO_BLK_ZS_OFFLINE);
    expect(await t.read(zone(6), 4)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.write(zone(6) + 4, 1)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect((await t.append(zone(6), 1))[0]).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect(await t.op(VIRTIO_BLK_T_ZONE_RESET, zone(6))).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect(await t.read(zone(7), 1)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    expect(await t.write(zone(7), 1)).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    for (const type of [VIRTIO_BLK_T_ZONE_OPEN, VIRTIO_BLK_T_ZONE_CLOSE, VIRTIO_BLK_T_ZONE_FINISH, VIRTIO_BLK_T_ZONE_RESET]) {
      expect(await t.op(type, zone(7))).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
    }
    await t.op(VIRTIO_BLK_T_ZONE_RESET_ALL, 0);
    expect((await t.report(zone(6), 192)).zones.map((z) => z.state)).toEqual([VIRTIO_BLK_ZS_RDONLY, VIRTIO_BLK_ZS_OFFLINE]);
    expect(() => t.zones.fail(zone(7), VIRTIO_BLK_ZS_RDONLY)).toThrow(RangeError);
  });

  it('[blk.dev.42] [blk.dev.43] sectors past the data written since the last reset read as zeroes, also after a finish', async () => {
    const t = raw();
    const old = t.backend.data.slice(zone(8) * S, zone(9) * S);
    expect(old.some((b) => b !== 0)).toBe(true);
    t.memory.write(DATA, pattern(4 * S, 11));
    expect(await t.write(zone(8), 4)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.read(zone(8), ZS)).toBe(VIRTIO_BLK_S_OK);
    expect(Buffer.compare(t.memory.view(DATA, 4 * S), pattern(4 * S, 11))).toBe(0);
    expect(t.memory.view(DATA + 4 * S, (ZS - 4) * S).every((b) => b === 0)).toBe(true);
    await t.op(VIRTIO_BLK_T_ZONE_FINISH, zone(8));
    expect(await t.read(zone(8) + 2, 8)).toBe(VIRTIO_BLK_S_OK);
    expect(Buffer.compare(t.memory.view(DATA, 2 * S), pattern(4 * S, 11).subarray(2 * S))).toBe(0);
    expect(t.memory.view(DATA + 2 * S, 6 * S).every((b) => b === 0)).toBe(true);
    await t.op(VIRTIO_BLK_T_ZONE_RESET, zone(8));
    expect(await t.read(zone(8), 4)).toBe(VIRTIO_BLK_S_OK);
    expect(t.memory.view(DATA, 4 * S).every((b) => b === 0)).toBe(true);
    // Conventional zones read what the backend holds.
    expect(await t.read(zone(0), 1)).toBe(VIRTIO_BLK_S_OK);
    expect(Buffer.compare(t.memory.view(DATA, S), pattern(1 << 20, 3).subarray(0, S))).toBe(0);
  });

  it('zone report: header and whole descriptors that fit, from the zone holding the sector; IOERR beyond the disk or under 64 bytes', async () => {
    const t = raw();
    await t.write(zone(3), 5);
    const r = await t.report(zone(3) + 17, 64 + 64 * 3 + 10);
    expect(r.status).toBe(VIRTIO_BLK_S_OK);
    expect(r.zones.map((z) => [z.start, z.wp, z.state])).toEqual([
      [zone(3), BigInt(zone(3) + 5), VIRTIO_BLK_ZS_IOPEN],
      [zone(4), BigInt(zone(4)), VIRTIO_BLK_ZS_EMPTY],
      [zone(5), BigInt(zone(5)), VIRTIO_BLK_ZS_EMPTY],
    ]);
    expect((await t.report(zone(31), 64 * 10)).zones.length).toBe(1);
    expect((await t.report(2048)).status).toBe(VIRTIO_BLK_S_IOERR);
    expect((await t.report(0, 63)).status).toBe(VIRTIO_BLK_S_IOERR);
  });

  it('random zone requests from a hostile driver: each is answered, limits hold, nothing throws', async () => {
    const t = raw({ maxOpenZones: 3, maxActiveZones: 4, zoneCapacity: 40, writeGranularity: 1024 });
    const types = [VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_ZONE_APPEND, VIRTIO_BLK_T_ZONE_REPORT, VIRTIO_BLK_T_ZONE_OPEN, VIRTIO_BLK_T_ZONE_CLOSE, VIRTIO_BLK_T_ZONE_FINISH, VIRTIO_BLK_T_ZONE_RESET, VIRTIO_BLK_T_ZONE_RESET_ALL];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...types),
        fc.oneof(fc.integer({ min: 0, max: 2100 }), fc.constantFrom(2 ** 53, 2 ** 64 - 1, zone(5))),
        fc.integer({ min: 0, max: 80 }),
        async (type, sector, sectors) => {
          const data = sectors > 0 ? [{ addr: DATA, len: sectors * 512 - (sectors % 7 === 0 ? 1 : 0) }] : [];
          const writable = type === VIRTIO_BLK_T_IN || type === VIRTIO_BLK_T_ZONE_REPORT;
          const used = await t.submit(
            writable ? [t.header(type, BigInt(sector))] : [t.header(type, BigInt(sector)), ...data],
            type === VIRTIO_BLK_T_ZONE_APPEND ? [{ addr: STATUS - 8, len: 8 }, t.status()] : writable ? [...data, t.status()] : [t.status()],
          );
          expect(used).not.toBeNull();
          expect(t.memory.readU8(STATUS)).toBeLessThanOrEqual(VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE);
          const c = t.zones.counters;
          expect(c.open).toBeLessThanOrEqual(3);
          expect(c.active).toBeLessThanOrEqual(4);
          expect(c.open).toBeLessThanOrEqual(c.active);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('zoned driver', () => {
  const zrig = (zoned: Partial<BlkZonedOptions> = {}) => {
    let rec!: RecordingDevice;
    const t = rig({ backend: new MemoryBackend({ size: 1 << 20 }), zoned: { ...HM, ...zoned }, driverZoned: true, wrap: (d) => (rec = new RecordingDevice(d)) });
    return { ...t, rec, last: () => rec.requests[rec.requests.length - 1] };
  };

  it('reads the zoned characteristics; drives a host-managed device end to end', async () => {
    const t = zrig({ maxOpenZones: 4, maxAppendSectors: 32 });
    expect(t.driver.config.zoned).toEqual({ model: VIRTIO_BLK_Z_HM, zoneSectors: ZS, nrZones: 32, maxOpenZones: 4, maxActiveZones: 0, maxAppendSectors: 32, writeGranularity: 512 });
    t.memory.write(DATA_BASE, pattern(8 * S, 4));
    expect(await t.driver.write(zone(2), seg(DATA_BASE, 8 * S))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.zoneAppend(zone(2), seg(DATA_BASE, 4 * S))).toEqual({ status: VIRTIO_BLK_S_OK, appendSector: zone(2) + 8 });
    t.memory.write(DATA_BASE + 0x10000, new Uint8Array(12 * S));
    expect(await t.driver.read(zone(2), seg(DATA_BASE + 0x10000, 12 * S))).toBe(VIRTIO_BLK_S_OK);
    expect(Buffer.compare(t.memory.view(DATA_BASE + 0x10000 + 8 * S, 4 * S), pattern(8 * S, 4).subarray(0, 4 * S))).toBe(0);
    const r = await t.driver.reportZones(zone(2), seg(DATA_BASE + 0x20000, 64 + 2 * 64));
    expect(r.zones).toEqual([
      { capacity: ZS, start: zone(2), writePointer: zone(2) + 12, type: VIRTIO_BLK_ZT_SWR, state: VIRTIO_BLK_ZS_IOPEN },
      { capacity: ZS, start: zone(3), writePointer: zone(3), type: VIRTIO_BLK_ZT_SWR, state: VIRTIO_BLK_ZS_EMPTY },
    ]);
    expect(await t.driver.zoneFinish(zone(2))).toBe(VIRTIO_BLK_S_OK);
    expect((await t.driver.reportZones(zone(2), seg(DATA_BASE + 0x20000, 128))).zones[0]).toMatchObject({ state: VIRTIO_BLK_ZS_FULL, writePointer: undefined });
    expect(await t.driver.write(zone(2) + 12, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_ZONE_INVALID_CMD);
  });

  it('[blk.drv.22] [blk.drv.24] open, close, finish and reset name the first sector of a zone', async () => {
    const t = zrig();
    for (const op of [t.driver.zoneOpen, t.driver.zoneClose, t.driver.zoneFinish, t.driver.zoneReset].map((f) => f.bind(t.driver))) {
      const before = t.rec.requests.length;
      await expect(op(zone(3) + 1)).rejects.toThrow(RangeError);
      await expect(op(zone(3) + 0.5)).rejects.toThrow(RangeError);
      await expect(op(2048)).rejects.toThrow(RangeError);
      expect(t.rec.requests.length).toBe(before);
    }
    expect(await t.driver.zoneOpen(zone(3))).toBe(VIRTIO_BLK_S_OK);
    expect(t.last()).toMatchObject({ type: VIRTIO_BLK_T_ZONE_OPEN, sector: BigInt(zone(3)) });
    expect(await t.driver.zoneClose(zone(3))).toBe(VIRTIO_BLK_S_OK);
    expect(t.last()).toMatchObject({ type: VIRTIO_BLK_T_ZONE_CLOSE, sector: BigInt(zone(3)) });
    expect(await t.driver.zoneReset(zone(3))).toBe(VIRTIO_BLK_S_OK);
    expect(t.last()).toMatchObject({ type: VIRTIO_BLK_T_ZONE_RESET, sector: BigInt(zone(3)) });
  });

  it('[blk.drv.25] reset all sends sector 0', async () => {
    const t = zrig();
    await t.driver.write(zone(5), seg(DATA_BASE, S));
    expect(await t.driver.zoneResetAll()).toBe(VIRTIO_BLK_S_OK);
    expect(t.last()).toMatchObject({ type: VIRTIO_BLK_T_ZONE_RESET_ALL, sector: 0n });
    expect((await t.driver.reportZones(zone(5), seg(DATA_BASE, 128))).zones[0].state).toBe(VIRTIO_BLK_ZS_EMPTY);
  });

  it('[blk.drv.23] a zone report names a sector within the disk (any sector of the starting zone)', async () => {
    const t = zrig();
    await expect(t.driver.reportZones(2048, seg(DATA_BASE, 128))).rejects.toThrow(RangeError);
    await expect(t.driver.reportZones(0, seg(DATA_BASE, 63))).rejects.toThrow(RangeError);
    const r = await t.driver.reportZones(zone(6) + 33, seg(DATA_BASE, 128));
    expect(t.last()).toMatchObject({ type: VIRTIO_BLK_T_ZONE_REPORT, sector: BigInt(zone(6) + 33) });
    expect(r.zones[0].start).toBe(zone(6));
  });

  it('[blk.drv.26] [blk.drv.27] appends go to a zone start, in write_granularity multiples, within max_append_sectors; append_sector is returned', async () => {
    const t = zrig({ writeGranularity: 2048, maxAppendSectors: 16 });
    const before = t.rec.requests.length;
    await expect(t.driver.zoneAppend(zone(4) + 4, seg(DATA_BASE, 2048))).rejects.toThrow(RangeError);
    await expect(t.driver.zoneAppend(zone(4), seg(DATA_BASE, 1024))).rejects.toThrow(/write_granularity/);
    await expect(t.driver.zoneAppend(zone(4), seg(DATA_BASE, 17 * S))).rejects.toThrow(/max_append_sectors/);
    expect(t.rec.requests.length).toBe(before);
    expect(await t.driver.zoneAppend(zone(4), seg(DATA_BASE, 2048))).toEqual({ status: VIRTIO_BLK_S_OK, appendSector: zone(4) });
    expect(t.last()).toMatchObject({ type: VIRTIO_BLK_T_ZONE_APPEND, sector: BigInt(zone(4)) });
    expect(await t.driver.zoneAppend(zone(4), seg(DATA_BASE, 8192))).toEqual({ status: VIRTIO_BLK_S_OK, appendSector: zone(4) + 4 });
    const none = zrig({ maxAppendSectors: 0 });
    await expect(none.driver.zoneAppend(zone(4), seg(DATA_BASE, S))).rejects.toThrow(/max_append_sectors/);
  });

  it('[blk.drv.28] writes to sequential zones: write_granularity size and start, within the zone capacity (learned from reports); conventional zones are free', async () => {
    const t = zrig({ writeGranularity: 4096, zoneCapacity: 40 });
    const before = t.rec.requests.length;
    await expect(t.driver.write(zone(3), seg(DATA_BASE, 2048))).rejects.toThrow(/write_granularity/);
    await expect(t.driver.write(zone(3) + 4, seg(DATA_BASE, 4096))).rejects.toThrow(/write_granularity/);
    await expect(t.driver.write(zone(3) + 56, seg(DATA_BASE, 16 * S))).rejects.toThrow(/capacity/); // past the zone
    await expect(t.driver.write(zone(0), seg(DATA_BASE, S))).rejects.toThrow(/write_granularity/); // not yet known conventional
    expect(t.rec.requests.length).toBe(before);
    await t.driver.reportZones(0, seg(DATA_BASE + 0x10000, 64 * 40));
    expect(await t.driver.write(zone(0) + 3, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
    await expect(t.driver.write(zone(1) + 60, seg(DATA_BASE, 8 * S))).rejects.toThrow(/write_granularity/); // into sequential zone 2
    await expect(t.driver.write(zone(3) + 32, seg(DATA_BASE, 16 * S))).rejects.toThrow(/capacity/); // past z_cap 40
    expect(await t.driver.write(zone(3), seg(DATA_BASE, 40 * S))).toBe(VIRTIO_BLK_S_OK);
  });

  it('zone state is the storage state: it survives a device reset', async () => {
    const t = zrig();
    expect(await t.driver.write(zone(9), seg(DATA_BASE, 3 * S))).toBe(VIRTIO_BLK_S_OK);
    await t.driver.reset();
    const again = new BlkDriver(t.transport, { memory: t.memory, allocator: t.allocator, zoned: true });
    (t.transport as LoopbackTransport).onInterrupt = () => again.handleInterrupt();
    expect(await again.write(zone(9), seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_ZONE_UNALIGNED_WP);
    expect(await again.write(zone(9) + 3, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
  });

  it('[blk.drv.5] a zoned driver never accepts DISCARD', () => {
    const ha = rig({ zoned: { model: 'host-aware', zoneSectors: ZS }, driverZoned: true });
    expect(hasFeature(ha.device.deviceFeatures, VIRTIO_BLK_F_DISCARD)).toBe(true);
    expect(hasFeature(ha.driver.features, VIRTIO_BLK_F_DISCARD)).toBe(false);
    expect(hasFeature(ha.driver.features, VIRTIO_BLK_F_ZONED)).toBe(true);
    const plain = rig({ driverZoned: true });
    expect(plain.driver.config.zoned).toBeUndefined();
    expect(hasFeature(plain.driver.features, VIRTIO_BLK_F_DISCARD)).toBe(false);
  });
});
