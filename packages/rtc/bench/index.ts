// RTC request rate: our driver against our device over the loopback transport, READ requests of
// the host clock in batches of 64, split and packed rings. Prints figures; asserts nothing.
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { RtcDevice, RtcDriver } from '../src/index.js';

async function run(name: string, features: bigint, count: number): Promise<void> {
  const memory = new FlatGuestMemory(new Uint8Array(1 << 22));
  const transport = new LoopbackTransport(new RtcDevice({ ringFeatures: features }), { memory, transport: 'mmio' });
  const driver = RtcDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, (1 << 22) - 0x1000), ringFeatures: features });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  await driver.start();
  const start = performance.now();
  for (let done = 0; done < count; done += 64) await Promise.all(Array.from({ length: 64 }, (_, i) => driver.read(i % 3)));
  const s = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(8)} READ: ${(count / s).toFixed(0)} req/s (${((s / count) * 1e6).toFixed(2)} us per request)`);
}

for (const [name, f] of [
  ['split', featureMask(VIRTIO_F_EVENT_IDX)],
  ['packed', featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)],
] as const) {
  await run(name, f, 50_000);
}
