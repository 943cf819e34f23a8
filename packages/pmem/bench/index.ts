// PMEM flush request rate: our driver against our device over the loopback transport with the
// in-memory backend on a small range (so the request path, not the copy, dominates). Prints figures; asserts nothing.
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { MemoryPmemBackend, PmemDevice, PmemDriver } from '../src/index.js';

async function run(name: string, features: bigint, count: number): Promise<void> {
  const memory = new FlatGuestMemory(new Uint8Array(0x101000));
  const backend = new MemoryPmemBackend(memory.view(0x100000, 0x1000));
  const transport = new LoopbackTransport(new PmemDevice({ backend, start: 0x100000, ringFeatures: features }), { memory, transport: 'mmio' });
  const driver = PmemDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, 0xff000), ringFeatures: features });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  const start = performance.now();
  for (let done = 0; done < count; done += 32) await Promise.all(Array.from({ length: 32 }, () => driver.flush()));
  const s = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(8)} ${(count / s).toFixed(0)} flushes/s`);
}

for (const [name, f] of [
  ['split', featureMask(VIRTIO_F_EVENT_IDX)],
  ['packed', featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)],
] as const) {
  await run(name, f, 20_000);
}
