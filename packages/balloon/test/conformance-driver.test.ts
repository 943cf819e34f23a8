// Driver-side requirements of spec 5.5: our BalloonDriver observed through the device it drives.
import { hasFeature } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import {
  balloonQueueIndex,
  VIRTIO_BALLOON_CMD_ID_STOP,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_PAGE_POISON,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_FREE_PAGE_VQ,
  VIRTIO_BALLOON_S_CACHES,
  VIRTIO_BALLOON_S_MEMFREE,
  VIRTIO_BALLOON_S_MEMTOT,
  VIRTIO_BALLOON_STATSQ,
  type BalloonStats,
} from '../src/index.js';
import { POOL_PAGES, recordingDevice, rig, settle } from './harness.js';

const POISON = 0xaaaaaaaa;

describe('balloon driver conformance', () => {
  it('[balloon.drv.1] accepts MUST_TELL_HOST when offered', () => {
    expect(hasFeature(rig().driver.device.features, VIRTIO_BALLOON_F_MUST_TELL_HOST)).toBe(true);
  });

  it('[balloon.drv.2] accepts PAGE_POISON only when it will write poison_val', () => {
    expect(hasFeature(rig().driver.device.features, VIRTIO_BALLOON_F_PAGE_POISON)).toBe(false);
    expect(hasFeature(rig({}, { poisonVal: POISON }).driver.device.features, VIRTIO_BALLOON_F_PAGE_POISON)).toBe(true);
  });

  it('[balloon.drv.3] expecting initialized pages, accepts PAGE_REPORTING only with PAGE_POISON', () => {
    expect(hasFeature(rig({}, { expectInitializedPages: true }).driver.device.features, VIRTIO_BALLOON_F_PAGE_REPORTING)).toBe(false);
    const f = rig({}, { expectInitializedPages: true, poisonVal: POISON }).driver.device.features;
    expect(hasFeature(f, VIRTIO_BALLOON_F_PAGE_REPORTING) && hasFeature(f, VIRTIO_BALLOON_F_PAGE_POISON)).toBe(true);
  });

  it('[balloon.drv.7] without DEFLATE_ON_OOM takes no page while num_pages <= actual; with it, may', async () => {
    const r = rig({ balloonFeatures: [VIRTIO_BALLOON_F_MUST_TELL_HOST] });
    r.dev.setNumPages(20);
    await r.driver.adjust();
    await expect(r.driver.deflateOnOom(5)).rejects.toThrow(/DEFLATE_ON_OOM/);
    expect(r.dev.actual).toBe(20);
    r.dev.setNumPages(18);
    expect(await r.driver.deflateOnOom(5)).toBe(2); // only what the device gave up
    const o = rig({ balloonFeatures: [VIRTIO_BALLOON_F_DEFLATE_ON_OOM] });
    o.dev.setNumPages(20);
    await o.driver.adjust();
    expect(await o.driver.deflateOnOom(5)).toBe(5);
    expect(o.dev.actual).toBe(15);
  });

  it('[balloon.drv.10] [balloon.drv.9] with MUST_TELL_HOST reuses deflated pages only after the deflateq ack', async () => {
    const r = rig();
    r.dev.setNumPages(40);
    await r.driver.adjust();
    const seen: number[] = [];
    const inner = r.backend.deflate.bind(r.backend);
    r.backend.deflate = (ranges) => {
      seen.push(r.pool.available);
      inner(ranges);
    };
    r.dev.setNumPages(0);
    await r.driver.adjust();
    expect(seen).toEqual([POOL_PAGES - 40]); // still out of the guest's pool when the device saw the deflate
    expect(r.pool.available).toBe(POOL_PAGES);
  });

  it('[balloon.drv.12] [balloon.drv.13] inflated pages stay out of use; only acknowledged pages are deflated', async () => {
    const r = rig();
    const innerI = r.backend.inflate.bind(r.backend);
    const innerD = r.backend.deflate.bind(r.backend);
    let bad = 0;
    r.backend.inflate = (ranges, mem) => {
      innerI(ranges, mem);
      if (r.pool.available !== POOL_PAGES - r.backend.inBalloon.size) bad++;
    };
    r.backend.deflate = (ranges) => {
      for (const x of ranges) for (let a = x.addr; a < x.addr + x.len; a += 4096) if (!r.backend.inBalloon.has(a)) bad++;
      innerD(ranges);
    };
    r.dev.setNumPages(300);
    await r.driver.adjust();
    expect(r.pool.available).toBe(POOL_PAGES - 300);
    r.dev.setNumPages(0);
    await r.driver.adjust();
    expect(bad).toBe(0);
    expect(r.backend.inBalloon.size).toBe(0);
  });

  it('[balloon.drv.14] updates actual after every change of the balloon', async () => {
    const r = rig();
    const actuals: number[] = [];
    const inner = r.backend.inflate.bind(r.backend);
    r.backend.inflate = (ranges, mem) => {
      actuals.push(r.dev.actual);
      inner(ranges, mem);
    };
    r.dev.setNumPages(600);
    await r.driver.adjust();
    expect(actuals).toEqual([0, 256, 512]);
    expect(r.dev.actual).toBe(600);
    r.dev.setNumPages(550);
    await r.driver.adjust();
    expect(r.dev.actual).toBe(550);
  });

  it('[balloon.drv.16] [balloon.drv.17] [balloon.drv.18] one statsq buffer at all times: at start and after every use', async () => {
    const rec: { popped?: Map<number, unknown[]> } = {};
    const r = rig({}, { stats: () => [[VIRTIO_BALLOON_S_MEMFREE, 1n]] }, 0n, (d) => {
      const w = recordingDevice(d);
      rec.popped = w.popped;
      return w.device;
    });
    await settle();
    expect(rec.popped!.get(VIRTIO_BALLOON_STATSQ)?.length).toBe(1);
    for (let i = 0; i < 5; i++) {
      expect(r.dev.requestStats()).toBe(true);
      expect(r.dev.requestStats()).toBe(false); // nothing held until the driver answers
      await settle();
    }
    // Had the driver made two available at once, the device would have popped more than one per request.
    expect(rec.popped!.get(VIRTIO_BALLOON_STATSQ)?.length).toBe(6);
    expect(r.dev.requestStats()).toBe(true);
  });

  it('[balloon.drv.19] [balloon.drv.23] every statsq buffer holds one entry per supported statistic, the same subset each time', async () => {
    let call = 0;
    const seen: BalloonStats[] = [];
    const r = rig(
      { backend: { stats: (s) => seen.push(s) } },
      {
        stats: () =>
          call++ === 0
            ? [[VIRTIO_BALLOON_S_MEMFREE, 1n], [VIRTIO_BALLOON_S_MEMTOT, 2n], [VIRTIO_BALLOON_S_CACHES, 3n]]
            : [[VIRTIO_BALLOON_S_MEMTOT, 20n], [7777, 9n]],
      },
    );
    await settle();
    r.dev.requestStats();
    await settle();
    expect(seen.length).toBe(2);
    expect([...seen[0].keys()]).toEqual([VIRTIO_BALLOON_S_MEMFREE, VIRTIO_BALLOON_S_MEMTOT, VIRTIO_BALLOON_S_CACHES]);
    expect([...seen[1].keys()]).toEqual([VIRTIO_BALLOON_S_MEMFREE, VIRTIO_BALLOON_S_MEMTOT, VIRTIO_BALLOON_S_CACHES]);
    expect(seen[1].get(VIRTIO_BALLOON_S_MEMTOT)).toBe(20n);
  });

  it('[balloon.drv.24] [balloon.drv.25] [balloon.drv.26] [balloon.drv.29] a hinting round: the ID first, once, 4-byte ID buffers, STOP last', async () => {
    const rec: { popped?: Map<number, { readable: { len: number; addr: number }[]; writable: unknown[] }[]> } = {};
    const r = rig({}, { hintBatch: 4 }, 0n, (d) => {
      const w = recordingDevice(d);
      rec.popped = w.popped as never;
      return w.device;
    });
    const id = r.dev.startHinting();
    await settle();
    r.dev.setNumPages(0); // another configuration change under the same ID
    await settle();
    // Without STATS_VQ the free page queue is virtqueue 2 (queues.ts).
    const chains = rec.popped!.get(balloonQueueIndex(VIRTIO_BALLOON_FREE_PAGE_VQ, r.driver.device.features)!)!;
    const ids = chains.filter((c) => c.readable.length > 0);
    expect(ids.every((c) => c.readable.length === 1 && c.readable[0].len === 4)).toBe(true);
    const values = ids.map((c) => r.memory.readU32(c.readable[0].addr));
    expect(chains[0].readable.length).toBe(1);
    expect(values).toEqual([id, VIRTIO_BALLOON_CMD_ID_STOP]);
    expect(chains.at(-1)!.readable.length).toBe(1);
    expect(chains.filter((c) => c.writable.length > 0).length).toBe(4);
  });

  it('[balloon.drv.33] releases all hinted pages once the device says DONE; [balloon.drv.28] [balloon.drv.32] after STOP hints nothing and releases nothing', async () => {
    const r = rig({}, { hintBatch: 8 });
    r.dev.startHinting();
    await settle();
    expect(r.driver.hintedPages).toBe(8);
    r.dev.stopHinting();
    await settle();
    expect(r.driver.hintedPages).toBe(8);
    expect(r.pool.available).toBe(POOL_PAGES - 8);
    expect(r.dev.counters.hinted).toBe(8);
    r.dev.finishHinting();
    await settle();
    expect(r.driver.hintedPages).toBe(0);
    expect(r.pool.available).toBe(POOL_PAGES);
  });

  it('[balloon.drv.35] writes poison_val before DRIVER_OK (the device freezes it at DRIVER_OK)', () => {
    expect(rig({}, { poisonVal: POISON }).dev.poisonVal).toBe(POISON);
  });

  it('[balloon.drv.36] never writes poison_val after DRIVER_OK', async () => {
    const r = rig({}, { poisonVal: POISON, stats: () => [[VIRTIO_BALLOON_S_MEMFREE, 1n]] });
    const offsets: number[] = [];
    const inner = r.transport.writeConfig.bind(r.transport);
    r.transport.writeConfig = (offset, width, value) => {
      offsets.push(offset);
      inner(offset, width, value);
    };
    r.dev.setNumPages(30);
    await r.driver.adjust();
    r.dev.requestStats();
    await r.driver.reportFreePages(3);
    r.dev.startHinting();
    await settle();
    r.dev.setNumPages(0);
    await r.driver.adjust();
    await r.driver.deflateOnOom(1).catch(() => undefined);
    expect(offsets.length).toBeGreaterThan(0);
    expect(offsets.every((o) => o + 4 <= 12)).toBe(true);
  });

  it('[balloon.drv.34] deflated pages come back filled with poison_val', async () => {
    const r = rig({}, { poisonVal: POISON });
    r.dev.setNumPages(3);
    await r.driver.adjust();
    const pages = [...r.backend.inBalloon];
    expect(r.memory.readU32(pages[0])).toBe(0); // the memory backend discarded them
    r.dev.setNumPages(0);
    await r.driver.adjust();
    for (const a of pages) for (let off = 0; off < 4096; off += 4) expect(r.memory.readU32(a + off)).toBe(POISON);
  });

  it('[balloon.drv.38] [balloon.drv.39] reported pages hold poison_val and stay out of use until the ack', async () => {
    let checked = 0;
    let pool = { available: 0 };
    const r = rig(
      {
        backend: {
          report: (ranges, mem, poison) => {
            expect(poison).toBe(POISON);
            for (const x of ranges) for (let a = x.addr; a < x.addr + x.len; a += 4) expect(mem.readU32(a)).toBe(POISON);
            expect(pool.available).toBe(POOL_PAGES - 10);
            checked++;
          },
        },
      },
      { poisonVal: POISON },
    );
    pool = r.pool;
    expect(await r.driver.reportFreePages(10)).toBe(10);
    expect(checked).toBe(1);
    expect(r.pool.available).toBe(POOL_PAGES);
  });
});
