// Device-side requirements of spec 5.5, each checked against a driver that would expose a break.
import { DeviceInitError, featureMask, VIRTIO_F_VERSION_1 } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import {
  VIRTIO_BALLOON_CMD_ID_DONE,
  VIRTIO_BALLOON_CMD_ID_STOP,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_PAGE_POISON,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_FREE_PAGE_VQ,
  VIRTIO_BALLOON_REPORTING_VQ,
  VIRTIO_BALLOON_S_AVAIL,
  VIRTIO_BALLOON_S_MEMFREE,
  VIRTIO_BALLOON_S_MEMTOT,
  VIRTIO_BALLOON_S_SWAP_IN,
  VIRTIO_BALLOON_STATSQ,
} from '../src/index.js';
import { POOL_START, rawDriver, rig } from './harness.js';

const V1 = featureMask(VIRTIO_F_VERSION_1);
const HINT = V1 | featureMask(VIRTIO_BALLOON_F_FREE_PAGE_HINT);

/** Writes one 10-byte stat entry per [tag, value] at `addr`. */
function statsSegment(memory: { writeU16(a: number, v: number): void; writeU64(a: number, v: bigint): void }, addr: number, entries: [number, bigint][]) {
  entries.forEach(([tag, val], i) => {
    memory.writeU16(addr + i * 10, tag);
    memory.writeU64(addr + i * 10 + 2, val);
  });
  return { addr, len: entries.length * 10 };
}

describe('balloon device conformance', () => {
  it('[balloon.dev.1] refuses FEATURES_OK when told to and the driver did not accept MUST_TELL_HOST', () => {
    expect(() => rig({ requireMustTellHost: true }, { balloonFeatures: [] })).toThrow(DeviceInitError);
    try {
      rig({ requireMustTellHost: true }, { balloonFeatures: [] });
    } catch (e) {
      expect((e as DeviceInitError).code).toBe('features-rejected');
    }
    expect(() => rig({ requireMustTellHost: true })).not.toThrow();
  });

  it('[balloon.dev.4] ignores statistics entries with tags it does not recognize', () => {
    const r = rawDriver({}, V1 | featureMask(VIRTIO_BALLOON_F_STATS_VQ), [0, 1, VIRTIO_BALLOON_STATSQ]);
    const seg = statsSegment(r.memory, 0x80000, [
      [0x7777, 5n],
      [VIRTIO_BALLOON_S_MEMFREE, 42n],
      [0xffff, 6n],
    ]);
    r.send(VIRTIO_BALLOON_STATSQ, [seg]);
    expect(r.needsReset()).toBe(false);
    expect([...r.dev.lastStats!.entries()]).toEqual([[VIRTIO_BALLOON_S_MEMFREE, 42n]]);
  });

  it('[balloon.dev.5] accepts statistics entries in any tag order', () => {
    const r = rawDriver({}, V1 | featureMask(VIRTIO_BALLOON_F_STATS_VQ), [0, 1, VIRTIO_BALLOON_STATSQ]);
    const entries: [number, bigint][] = [
      [VIRTIO_BALLOON_S_AVAIL, 6n],
      [VIRTIO_BALLOON_S_MEMTOT, 5n],
      [VIRTIO_BALLOON_S_SWAP_IN, 1n],
      [VIRTIO_BALLOON_S_MEMFREE, 4n],
    ];
    r.send(VIRTIO_BALLOON_STATSQ, [statsSegment(r.memory, 0x80000, entries)]);
    for (const [tag, val] of entries) expect(r.dev.lastStats!.get(tag)).toBe(val);
  });

  it('[balloon.dev.7] never issues a command ID twice, across STOP and DONE', () => {
    const r = rawDriver({}, HINT, [0, 1, VIRTIO_BALLOON_FREE_PAGE_VQ]);
    const ids = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const id = r.dev.startHinting();
      expect(id).toBeGreaterThan(VIRTIO_BALLOON_CMD_ID_DONE);
      expect(r.transport.readConfig(8, 4)).toBe(id);
      ids.add(id);
      if (i % 2) r.dev.stopHinting();
      else r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [r.u32s(0x80000, [VIRTIO_BALLOON_CMD_ID_STOP])]);
      if (i % 5 === 0) r.dev.finishHinting();
    }
    expect(ids.size).toBe(50);
  });

  it('[balloon.dev.8] ignores pages hinted under a command ID other than the current one', () => {
    const r = rawDriver({}, HINT, [0, 1, VIRTIO_BALLOON_FREE_PAGE_VQ]);
    const page = POOL_START;
    r.memory.write(page, new Uint8Array(4096).fill(0x5a));
    const old = r.dev.startHinting();
    const current = r.dev.startHinting();
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [r.u32s(0x80000, [old])]);
    expect(r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [], [{ addr: page, len: 4096 }])).toBe(true);
    expect(r.backend.hinted).toEqual([]);
    expect(r.memory.readU32(page + 100)).toBe(0x5a5a5a5a);
    // Under the current ID the same page counts (and the memory backend discards it).
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [r.u32s(0x80000, [current])]);
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [], [{ addr: page, len: 4096 }]);
    expect(r.backend.hinted.map((h) => h.cmdId)).toEqual([current]);
    expect(r.dev.counters.hinted).toBe(1);
    // The device moved on (STOP): late pages of the old round are ignored again.
    r.dev.stopHinting();
    r.memory.write(page, new Uint8Array(4096).fill(0x5a));
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [], [{ addr: page, len: 4096 }]);
    expect(r.dev.counters.hinted).toBe(1);
    expect(r.memory.readU32(page)).toBe(0x5a5a5a5a);
  });

  it('[balloon.dev.10] does not modify hinted pages once free_page_hint_cmd_id is DONE', () => {
    const r = rawDriver({}, HINT, [0, 1, VIRTIO_BALLOON_FREE_PAGE_VQ]);
    const page = POOL_START;
    const id = r.dev.startHinting();
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [r.u32s(0x80000, [id])]);
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [], [{ addr: page, len: 4096 }]);
    r.dev.finishHinting();
    expect(r.backend.hinted).toEqual([]); // the backend was told: hints are void
    // The guest reuses the page; a straggling hint of the finished round changes nothing.
    r.memory.write(page, new Uint8Array(4096).fill(0x33));
    r.send(VIRTIO_BALLOON_FREE_PAGE_VQ, [], [{ addr: page, len: 4096 }]);
    expect(r.memory.readU32(page + 4092)).toBe(0x33333333);
    expect(r.backend.hinted).toEqual([]);
  });

  it('[balloon.dev.11] reports DONE in free_page_hint_cmd_id with a configuration change', () => {
    const r = rawDriver({}, HINT, [0, 1, VIRTIO_BALLOON_FREE_PAGE_VQ]);
    r.dev.startHinting();
    const gen = r.transport.configGeneration();
    const before = r.interrupts();
    r.dev.finishHinting();
    expect(r.transport.readConfig(8, 4)).toBe(VIRTIO_BALLOON_CMD_ID_DONE);
    expect(r.transport.configGeneration()).not.toBe(gen);
    expect(r.interrupts()).toBe(before + 1);
  });

  it('[balloon.dev.14] with PAGE_POISON leaves reported pages holding nothing but poison_val', () => {
    const poison = 0xa5a5a5a5;
    const r = rawDriver({}, V1 | featureMask(VIRTIO_BALLOON_F_PAGE_REPORTING, VIRTIO_BALLOON_F_PAGE_POISON), [0, 1, VIRTIO_BALLOON_REPORTING_VQ], poison);
    const page = POOL_START + 0x3000;
    r.memory.write(page, new Uint8Array(8192).fill(0xa5));
    expect(r.send(VIRTIO_BALLOON_REPORTING_VQ, [], [{ addr: page, len: 8192 }])).toBe(true);
    expect(r.dev.counters.reported).toBe(2);
    const bytes = new Uint8Array(8192);
    r.memory.read(page, bytes);
    expect(bytes.every((b) => b === 0xa5)).toBe(true);
  });

  it('without PAGE_POISON the memory backend may discard reported pages (zeros)', () => {
    const r = rawDriver({}, V1 | featureMask(VIRTIO_BALLOON_F_PAGE_REPORTING), [0, 1, VIRTIO_BALLOON_REPORTING_VQ]);
    r.memory.write(POOL_START, new Uint8Array(4096).fill(0x77));
    r.send(VIRTIO_BALLOON_REPORTING_VQ, [], [{ addr: POOL_START, len: 4096 }]);
    expect(r.memory.readU32(POOL_START)).toBe(0);
  });

  it('the optional queues exist only when their features are offered', () => {
    const r = rig({ balloonFeatures: [] });
    expect(r.dev.queueMaxSize(VIRTIO_BALLOON_STATSQ)).toBe(0);
    expect(r.dev.queueMaxSize(VIRTIO_BALLOON_FREE_PAGE_VQ)).toBe(0);
    expect(r.dev.queueMaxSize(VIRTIO_BALLOON_REPORTING_VQ)).toBe(0);
    expect(r.dev.queueMaxSize(0)).toBe(256);
  });

  it('num_pages and free_page_hint_cmd_id ignore driver writes; poison_val is frozen at DRIVER_OK', () => {
    const r = rawDriver({}, V1 | featureMask(VIRTIO_BALLOON_F_PAGE_POISON), [0, 1], 0x11223344);
    r.dev.setNumPages(7);
    r.transport.writeConfig(0, 4, 99);
    r.transport.writeConfig(8, 4, 99);
    r.transport.writeConfig(12, 4, 99);
    expect(r.transport.readConfig(0, 4)).toBe(7);
    expect(r.transport.readConfig(8, 4)).toBe(0);
    expect(r.dev.poisonVal).toBe(0x11223344);
    r.transport.writeConfig(4, 2, 0x1234);
    r.transport.writeConfig(6, 1, 0x56);
    expect(r.dev.actual).toBe(0x561234);
  });
});
