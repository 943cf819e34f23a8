// Ring benchmark: prints figures, asserts nothing. Run: npm run bench -w @virtio/ring
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** This process's CPU time (user + system) in milliseconds. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function timeLoop(body: (n: number) => void): number {
  // Warm up (so the JIT has optimised the loop), then run batches until the time is up;
  // returns operations per second of this process's CPU time, not wall time: the machine is
  // shared, and time spent descheduled would otherwise count against the loop.
  const warm = cpuMs();
  while (cpuMs() - warm < 200) body(10_000);
  let ops = 0;
  const start = cpuMs();
  let now = start;
  while (now - start < SECONDS * 1000) {
    body(10_000);
    ops += 10_000;
    now = cpuMs();
  }
  return (ops * 1000) / (now - start);
}

/**
 * Round trips per second: the device pops and pushes `batch` buffers and ends the batch
 * (needsNotification publishes them), then the driver reaps and re-adds them and kicks once.
 */
function roundTrips(packed: boolean, indirect: boolean, segments: number, batch: number): number | string {
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
    for (let k = 0; k < n; k += batch) {
      for (let b = 0; b < batch; b++) dev.push(dev.pop()!, 64);
      dev.needsNotification();
      for (let b = 0; b < batch; b++) {
        const u = drv.reap()!;
        drv.add(none, u.token, u.token, opts);
      }
      drv.kick();
    }
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

/**
 * The C reference loop (bench/c/split-roundtrip.c), built with `cc -O2` into a temporary
 * directory: once with release/acquire ordering for the shared ring fields (what C drivers and
 * devices use), once with sequentially consistent stores (what JavaScript's Atomics give).
 * Returns a note instead when there is no C compiler.
 */
function buildCReference(): { run: (seqCst: boolean, segments: number) => number } | string {
  const source = fileURLToPath(new URL('./c/split-roundtrip.c', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'virtio-ring-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const bins = [join(dir, 'relacq'), join(dir, 'seqcst')];
  for (const [k, bin] of bins.entries()) {
    const cc = spawnSync('cc', ['-O2', ...(k === 1 ? ['-DSEQ_CST'] : []), '-o', bin, source], { encoding: 'utf8' });
    if (cc.error) return `skipped (no C compiler: ${cc.error.message})`;
    if (cc.status !== 0) return `skipped (cc failed: ${cc.stderr.trim().split('\n')[0]})`;
  }
  return {
    run(seqCst, segments) {
      const r = spawnSync(bins[seqCst ? 1 : 0], [String(segments), String(SECONDS)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`C reference failed: ${r.stderr}`);
      return Number(r.stdout.split(' ')[0]);
    },
  };
}

const fmt = (x: number | string) => (typeof x === 'string' ? x : `${Math.round(x).toLocaleString('en-US')}`);

console.log(`@virtio/ring benchmark (queue size ${QUEUE_SIZE}, kept full; EVENT_IDX on; ${SECONDS}s of CPU time per figure; node ${process.version})`);
console.log('device pop + push + driver reap + re-add round trips per second, batches of 1 and of 16');
console.log('(a batch: the device pushes it and ends it with needsNotification, the driver reaps it and kicks once):');
for (const packed of [false, true]) {
  for (const indirect of [false, true]) {
    for (const segments of [1, 4]) {
      const label = `  ${packed ? 'packed' : 'split '} ${indirect ? 'indirect' : 'direct  '} ${segments}-segment`;
      console.log(`${label}: batch 1 ${fmt(roundTrips(packed, indirect, segments, 1))}, batch 16 ${fmt(roundTrips(packed, indirect, segments, 16))}`);
    }
  }
}
console.log('the split direct round trip in C (bench/c/split-roundtrip.c, cc -O2), same run:');
const c = buildCReference();
if (typeof c === 'string') console.log(`  ${c}`);
else {
  for (const segments of [1, 4]) {
    const ours = roundTrips(false, false, segments, 1) as number;
    const relAcq = c.run(false, segments);
    const seqCst = c.run(true, segments);
    console.log(
      `  ${segments}-segment: C release/acquire ${fmt(relAcq)}, C seq_cst stores ${fmt(seqCst)}, ours ${fmt(ours)}` +
        ` (C is ${(relAcq / ours).toFixed(1)}x ours; ${(seqCst / ours).toFixed(1)}x with the same store ordering)`,
    );
  }
}
console.log('ChainReader / ChainWriter throughput (payload over 4 descriptors), MB/s:');
for (const payload of [4096, 65536]) {
  console.log(`  ${payload / 1024} KiB read: ${fmt(chainThroughput(payload, false))}   write: ${fmt(chainThroughput(payload, true))}`);
}
