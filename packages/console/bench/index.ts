// Console throughput: our driver against our device over the loopback transport. Guest output
// (transmitq) and host input (receiveq) in 4 KiB pieces, split and packed rings. Prints figures.
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { CallbackPortBackend, ConsoleDevice, ConsoleDriver } from '../src/index.js';

async function run(name: string, features: bigint): Promise<void> {
  const memory = new FlatGuestMemory(new Uint8Array(1 << 23));
  let out = 0;
  let got = 0;
  const device = new ConsoleDevice({ ports: [{ backend: new CallbackPortBackend((d) => void (out += d.length)), bufferLimit: 1 << 20 }] });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  let driver: ConsoleDriver | undefined;
  transport.onInterrupt = () => queueMicrotask(() => driver?.handleInterrupt());
  driver = ConsoleDriver.initialize(transport, {
    memory,
    allocator: new FreeListAllocator(0x1000, (1 << 23) - 0x1000),
    ringFeatures: features,
    receiveBuffers: 64,
    events: { data: (_p, b) => void (got += b.length) },
  });
  const chunk = new Uint8Array(4096);
  const total = 64 << 20;
  let t0 = performance.now();
  for (let sent = 0; sent < total; sent += 64 * chunk.length) await Promise.all(Array.from({ length: 64 }, () => driver!.write(0, chunk)));
  const txS = (performance.now() - t0) / 1000;
  const port = device.port(0)!;
  t0 = performance.now();
  for (let sent = 0; sent < total; sent += chunk.length) {
    while (!port.push(chunk)) await new Promise<void>((r) => (port.onDrain = r));
  }
  while (got < total) await new Promise((r) => setTimeout(r, 0));
  const rxS = (performance.now() - t0) / 1000;
  const mib = total / 2 ** 20;
  console.log(`${name.padEnd(7)} guest->host ${(mib / txS).toFixed(0)} MiB/s (${out === total ? 'ok' : 'SHORT'}), host->guest ${(mib / rxS).toFixed(0)} MiB/s`);
}

await run('split', featureMask(VIRTIO_F_EVENT_IDX));
await run('packed', featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED));
