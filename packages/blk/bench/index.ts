// Block benchmark: in-process IOPS of 4 KiB random reads through our BlkDriver and BlkDevice
// over core's LoopbackTransport and the memory backend. Prints figures, asserts nothing.
// Run: npm run bench -w @virtio/blk   (BENCH_SECONDS=n to run longer)
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { BLK_DRIVER_FEATURES, BlkDevice, BlkDriver, MemoryBackend } from '../src/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const DISK = 64 << 20;
const BLOCK = 4096;
const MEM = 16 << 20;

function setUp(packed: boolean) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM));
  const device = new BlkDevice({ backend: new MemoryBackend({ size: DISK }) });
  const transport = new LoopbackTransport(device, { memory, transport: 'pci' });
  const ring = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);
  const wanted = (BLK_DRIVER_FEATURES & ~ring) | featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) | (packed ? featureMask(VIRTIO_F_RING_PACKED) : 0n);
  const driver = new BlkDriver(transport, { memory, allocator: new BumpAllocator(8 << 20, 8 << 20), wantedFeatures: wanted });
  transport.onInterrupt = () => driver.handleInterrupt();
  return driver;
}

/** Runs `depth` workers each issuing random 4 KiB reads back to back; returns IOPS. */
async function randomRead(packed: boolean, depth: number): Promise<number> {
  const driver = setUp(packed);
  const sectors = DISK / 512 - BLOCK / 512;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % (sectors / 8)) * 8;
  let ops = 0;
  // Completions arrive in microtasks, so timers never fire while the workers run: poll the clock.
  let deadline = 0;
  const worker = async (i: number) => {
    const buf = [{ addr: 0x10000 + i * BLOCK, len: BLOCK }];
    while (performance.now() < deadline) {
      await driver.read(rand(), buf);
      ops++;
    }
  };
  const run = async (ms: number) => {
    ops = 0;
    deadline = performance.now() + ms;
    await Promise.all(Array.from({ length: depth }, (_, i) => worker(i)));
    return ops;
  };
  await run(200); // warm-up
  const start = performance.now();
  const n = await run(SECONDS * 1000);
  return (n * 1000) / (performance.now() - start);
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(10);
console.log(`@virtio/blk: 4 KiB random reads, memory backend, in process (${SECONDS}s each)`);
for (const packed of [false, true]) {
  for (const depth of [1, 32]) {
    const iops = await randomRead(packed, depth);
    console.log(`  ${packed ? 'packed' : 'split '} QD${String(depth).padEnd(2)} ${fmt(iops)} IOPS  ${fmt((iops * BLOCK) / (1 << 20))} MiB/s`);
  }
}
