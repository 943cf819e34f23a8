// Entropy device throughput: our driver against our device over the loopback transport,
// 4 KiB requests, split and packed rings. Prints figures; asserts nothing.
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { EntropyDevice, EntropyDriver } from '../src/index.js';

async function run(name: string, features: bigint, size: number, count: number): Promise<void> {
  const memory = new FlatGuestMemory(new Uint8Array(1 << 22));
  const transport = new LoopbackTransport(new EntropyDevice({ ringFeatures: features }), { memory, transport: 'mmio' });
  const driver = EntropyDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, (1 << 22) - 0x1000), ringFeatures: features });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  const start = performance.now();
  for (let done = 0; done < count; done += 64) await Promise.all(Array.from({ length: 64 }, () => driver.request(size)));
  const s = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(8)} ${size} B requests: ${(count / s).toFixed(0)} req/s, ${((count * size) / s / 2 ** 20).toFixed(1)} MiB/s`);
}

for (const [name, f] of [
  ['split', featureMask(VIRTIO_F_EVENT_IDX)],
  ['packed', featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)],
] as const) {
  await run(name, f, 64, 20_000);
  await run(name, f, 4096, 20_000);
}
