// Balloon inflate/deflate throughput: our driver against our device over the loopback transport,
// 256-page requests, split and packed rings. Prints figures; asserts nothing.
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { BalloonDevice, BalloonDriver, MemoryBalloonBackend, RangePagePool } from '../src/index.js';

const MEM = 1 << 28; // 256 MiB: 1 MiB for rings, the rest pages
async function run(name: string, features: bigint, rounds: number): Promise<void> {
  const memory = new FlatGuestMemory(new Uint8Array(MEM));
  const device = new BalloonDevice({ backend: new MemoryBalloonBackend({ discard: false }), ringFeatures: features });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const pages = (MEM - 0x100000) / 4096;
  const driver = BalloonDriver.initialize(transport, {
    memory,
    allocator: new FreeListAllocator(0x1000, 0xff000),
    pages: new RangePagePool(0x100000, pages),
    ringFeatures: features,
  });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    device.setNumPages(pages);
    await driver.adjust();
    device.setNumPages(0);
    await driver.adjust();
  }
  const s = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(8)} ${((2 * rounds * pages) / s / 1e6).toFixed(2)} M pages/s inflated+deflated`);
}

for (const [name, f] of [
  ['split', featureMask(VIRTIO_F_EVENT_IDX)],
  ['packed', featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)],
] as const) {
  await run(name, f, 3);
}
