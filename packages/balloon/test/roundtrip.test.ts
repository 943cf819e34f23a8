// Our driver against our device, every ring variant: inflate, deflate, statistics, free page
// reporting and free page hinting end to end.
import { describe, expect, it } from 'vitest';
import { VIRTIO_BALLOON_S_MEMFREE, VIRTIO_BALLOON_S_MEMTOT } from '../src/index.js';
import { POOL_PAGES, rig, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('balloon round trip ($name)', ({ features }) => {
  it('inflates to num_pages and deflates back, actual following', async () => {
    const r = rig({}, {}, features);
    r.dev.setNumPages(300);
    await settle();
    expect(r.configChanges()).toBe(1);
    await r.driver.adjust();
    expect(r.driver.pages).toBe(300);
    expect(r.dev.actual).toBe(300);
    expect(r.backend.inBalloon.size).toBe(300);
    expect(r.pool.available).toBe(POOL_PAGES - 300);
    expect(r.dev.counters.inflated).toBe(300);
    r.dev.setNumPages(100);
    await r.driver.adjust();
    expect(r.dev.actual).toBe(100);
    expect(r.backend.inBalloon.size).toBe(100);
    expect(r.pool.available).toBe(POOL_PAGES - 100);
    expect(r.dev.counters.deflated).toBe(200);
  });

  it('stops inflating when the guest has no more pages', async () => {
    const r = rig({}, {}, features);
    r.dev.setNumPages(POOL_PAGES + 50);
    await r.driver.adjust();
    expect(r.dev.actual).toBe(POOL_PAGES);
  });

  it('delivers statistics at initialization and on every request', async () => {
    let free = 1000n;
    const r = rig({}, { stats: () => [[VIRTIO_BALLOON_S_MEMFREE, free++], [VIRTIO_BALLOON_S_MEMTOT, 1n << 40n]] }, features);
    await settle();
    expect(r.dev.lastStats?.get(VIRTIO_BALLOON_S_MEMFREE)).toBe(1000n);
    expect(r.backend.lastStats?.get(VIRTIO_BALLOON_S_MEMTOT)).toBe(1n << 40n);
    for (let i = 1; i <= 3; i++) {
      expect(r.dev.requestStats()).toBe(true);
      await settle();
      expect(r.dev.lastStats?.get(VIRTIO_BALLOON_S_MEMFREE)).toBe(1000n + BigInt(i));
    }
  });

  it('reports free pages and gets them back after the acknowledgement', async () => {
    const r = rig({}, {}, features);
    expect(await r.driver.reportFreePages(20)).toBe(20);
    expect(r.backend.reported.reduce((n, x) => n + x.len / 4096, 0)).toBe(20);
    expect(r.dev.counters.reported).toBe(20);
    expect(r.pool.available).toBe(POOL_PAGES);
  });

  it('hints free pages under the command ID and releases them on DONE', async () => {
    const r = rig({}, { hintBatch: 16 }, features);
    const id = r.dev.startHinting();
    await settle();
    await settle();
    expect(r.dev.counters.hinted).toBe(16);
    expect(r.backend.hinted.every((h) => h.cmdId === id)).toBe(true);
    expect(r.driver.hintedPages).toBe(16);
    expect(r.pool.available).toBe(POOL_PAGES - 16);
    r.dev.finishHinting();
    await settle();
    expect(r.driver.hintedPages).toBe(0);
    expect(r.pool.available).toBe(POOL_PAGES);
  });

  it('a reset returns the balloon to the guest and rejects nothing pending', async () => {
    const r = rig({}, {}, features);
    r.dev.setNumPages(10);
    await r.driver.adjust();
    r.driver.reset();
    expect(r.pool.available).toBe(POOL_PAGES);
    expect(r.dev.actual).toBe(0);
    await expect(r.driver.adjust()).rejects.toThrow(/reset/);
  });
});
