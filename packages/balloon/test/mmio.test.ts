// The balloon over the real MMIO transport (register encoding, interrupt line).
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { describe, expect, it } from 'vitest';
import { BalloonDevice, BalloonDriver, MemoryBalloonBackend, RangePagePool, VIRTIO_BALLOON_S_MEMFREE } from '../src/index.js';
import { MEM_SIZE, POOL_PAGES, POOL_START, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('balloon over MMIO ($name)', ({ features }) => {
  it('follows num_pages up and down, delivers statistics, reports and hints pages', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
    const backend = new MemoryBalloonBackend();
    const dev = new BalloonDevice({ backend });
    let driver: BalloonDriver | undefined;
    let changes = 0;
    const mmio = new MmioTransport(dev, {
      memory,
      interruptLine: (up) =>
        up &&
        queueMicrotask(() => {
          if (driver?.handleInterrupt()) changes++;
        }),
    });
    const pool = new RangePagePool(POOL_START, POOL_PAGES);
    driver = BalloonDriver.initialize(new MmioDriverTransport(mmio), {
      memory,
      allocator: new FreeListAllocator(0x1000, POOL_START - 0x1000),
      pages: pool,
      stats: () => [[VIRTIO_BALLOON_S_MEMFREE, BigInt(pool.available * 4096)]],
      poisonVal: 0,
      ringFeatures: features,
    });
    dev.setNumPages(400);
    await settle();
    expect(changes).toBeGreaterThan(0);
    await driver.adjust();
    expect(dev.actual).toBe(400);
    expect(backend.inBalloon.size).toBe(400);
    dev.requestStats();
    await settle();
    expect(dev.lastStats?.get(VIRTIO_BALLOON_S_MEMFREE)).toBe(BigInt((POOL_PAGES - 400) * 4096));
    expect(await driver.reportFreePages(5)).toBe(5);
    dev.startHinting();
    await settle();
    expect(driver.hintedPages).toBeGreaterThan(0);
    dev.finishHinting();
    await settle();
    dev.setNumPages(0);
    await driver.adjust();
    expect(dev.actual).toBe(0);
    expect(pool.available).toBe(POOL_PAGES);
  });
});
