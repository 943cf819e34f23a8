// MMIO transport benchmark: echo round trips through the register file (driver add, kick ->
// QueueNotify, device echo, InterruptStatus/ACK, reap). Prints figures, asserts nothing.
// Run: npm run bench -w @virtio/mmio
import { BumpAllocator, FlatGuestMemory, VirtqueueError, type DriverQueue } from '../../ring/src/index.js';
import { featureMask, initializeDevice, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '../../core/src/index.js';
import { EchoDevice } from '../../core/src/testing/index.js';
import { MmioTransport, probeMmio } from '../src/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

function timeLoop(body: (n: number) => void): number {
  const warm = performance.now();
  while (performance.now() - warm < 200) body(1000);
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < SECONDS * 1000) {
    body(1000);
    ops += 1000;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

function echoRoundTrips(extra: bigint, batch: number): number | string {
  const memory = new FlatGuestMemory(new SharedArrayBuffer(1 << 20));
  const mmio = new MmioTransport(new EchoDevice({ features: extra }), { memory });
  const probe = probeMmio(mmio);
  if (!probe.ok) throw new Error(probe.reason);
  let dev;
  try {
    dev = initializeDevice(probe.transport, {
      memory,
      allocator: new BumpAllocator(0x80000, 0x80000),
      wantedFeatures: extra,
      queues: [{ index: 0 }],
    });
  } catch (e) {
    if (e instanceof VirtqueueError) return `skipped (${e.message})`;
    throw e;
  }
  const q = dev.queues[0] as DriverQueue<number>;
  const out = [{ addr: 0x1000, len: 64 }];
  const into = [{ addr: 0x2000, len: 64 }];
  return timeLoop((n) => {
    for (let k = 0; k < n; k += batch) {
      for (let b = 0; b < batch; b++) q.add(out, into, b);
      dev.kick(0);
      dev.handleInterrupt();
      while (q.reap() !== null);
    }
  });
}

const fmt = (v: number | string) => (typeof v === 'number' ? `${Math.round(v).toLocaleString('en-US')} buffers/s` : v);
for (const [name, f] of [
  ['split', 0n],
  ['split+event_idx', featureMask(VIRTIO_F_EVENT_IDX)],
  ['packed', featureMask(VIRTIO_F_RING_PACKED)],
] as const) {
  for (const batch of [1, 32]) console.log(`mmio echo ${name.padEnd(16)} batch ${String(batch).padStart(2)}: ${fmt(echoRoundTrips(f, batch))}`);
}
