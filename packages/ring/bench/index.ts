// Ring benchmark: prints figures, asserts nothing. Run: npm run bench -w @virtio/ring
import {
  ChainReader,
  ChainWriter,
  FlatGuestMemory,
  FreeListAllocator,
  VirtqueueError,
  createDeviceQueue,
  createDriverQueue,
  type DeviceQueue,
  type DriverQueue,
  type Segment,
} from '../src/index.js';

const QUEUE_SIZE = 256;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

function timeLoop(body: (n: number) => void): number {
  // Warm up (so the JIT has optimised the loop), then run batches until the time is up;
  // returns operations per second.
  const warm = performance.now();
  while (performance.now() - warm < 200) body(10_000);
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < SECONDS * 1000) {
    body(10_000);
    ops += 10_000;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

function roundTrips(packed: boolean, indirect: boolean, segments: number): number | string {
  const mem = new FlatGuestMemory(new SharedArrayBuffer(1 << 24));
  const heap = new FreeListAllocator(0x1000, (1 << 24) - 0x1000);
  let drv: DriverQueue<Segment[]>;
  let dev: DeviceQueue;
  try {
    drv = createDriverQueue<Segment[]>(mem, heap, { size: QUEUE_SIZE, packed, features: { indirectDesc: indirect, eventIdx: true, inOrder: false } });
    dev = createDeviceQueue(mem, drv.config);
  } catch (e) {
    if (e instanceof VirtqueueError && e.code === 'bad-queue-config') return `skipped (${e.message})`;
    throw e;
  }
  const perBuffer = indirect ? 1 : segments;
  const inFlight = Math.floor(QUEUE_SIZE / perBuffer);
  const opts = { indirect };
  const none: Segment[] = [];
  for (let k = 0; k < inFlight; k++) {
    const segs = Array.from({ length: segments }, () => ({ addr: heap.alloc(512, 8), len: 512 }));
    drv.add(none, segs, segs, opts);
  }
  drv.kick();
  return timeLoop((n) => {
    for (let k = 0; k < n; k++) {
      const c = dev.pop()!;
      dev.push(c, 64);
      const u = drv.reap()!;
      drv.add(none, u.token, u.token, opts);
      drv.kick();
    }
    dev.needsNotification();
  });
}

function chainThroughput(payload: number, write: boolean): number {
  const mem = new FlatGuestMemory(new SharedArrayBuffer(1 << 20));
  // The payload split over 4 descriptors, as drivers commonly do for large buffers.
  const part = payload / 4;
  const segs = [0, 1, 2, 3].map((k) => ({ addr: 0x1000 + k * (part + 64), len: part }));
  const buf = new Uint8Array(payload);
  const ops = timeLoop((n) => {
    for (let k = 0; k < n / 100; k++) {
      if (write) new ChainWriter(mem, segs).write(buf);
      else new ChainReader(mem, segs).read(buf);
    }
  });
  return (ops / 100) * payload / 1e6;
}

const fmt = (x: number | string) => (typeof x === 'string' ? x : `${Math.round(x).toLocaleString('en-US')}`);

console.log(`@virtio/ring benchmark (queue size ${QUEUE_SIZE}, kept full; EVENT_IDX on; ${SECONDS}s per figure; node ${process.version})`);
console.log('device pop + push + driver reap + re-add round trips per second:');
for (const packed of [false, true]) {
  for (const indirect of [false, true]) {
    for (const segments of [1, 4]) {
      const label = `  ${packed ? 'packed' : 'split '} ${indirect ? 'indirect' : 'direct  '} ${segments}-segment`;
      console.log(`${label}: ${fmt(roundTrips(packed, indirect, segments))}`);
    }
  }
}
console.log('ChainReader / ChainWriter throughput (payload over 4 descriptors), MB/s:');
for (const payload of [4096, 65536]) {
  console.log(`  ${payload / 1024} KiB read: ${fmt(chainThroughput(payload, false))}   write: ${fmt(chainThroughput(payload, true))}`);
}
