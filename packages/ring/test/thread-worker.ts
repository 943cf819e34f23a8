// One side of a virtqueue on its own thread, for threads.test.ts: the driver or the device,
// created through the layout-neutral factory, sharing guest memory (a SharedArrayBuffer) and
// doorbell words with the other thread. Each side sleeps whenever notification suppression
// lets it, so a lost notification hangs the run. The device tags each used buffer with its
// batch (pushes ended by one needsNotification) so the driver can tell if it ever reaps part
// of a batch.
import { parentPort, workerData } from 'node:worker_threads';
import { FreeListAllocator } from '../src/alloc/free-list.js';
import { FlatGuestMemory } from '../src/memory/flat.js';
import { createDeviceQueue, createDriverQueue } from '../src/queue/factory.js';
import type { DescriptorChain, QueueConfig, RingFeatures } from '../src/queue/types.js';

/** Doorbell words: available buffer notifications, used buffer notifications, driver finished. */
const KICK = 0;
const IRQ = 1;
const DONE = 2;
const DATA = 1 << 20;
const PAYLOAD = 45;
/** The device writes three u32 into each buffer's writable part: checksum, batch number, batch size. */
const REPLY = 12;

type Data =
  | { role: 'driver'; mem: SharedArrayBuffer; ctl: SharedArrayBuffer; size: number; packed: boolean; features: RingFeatures; buffers: number }
  | { role: 'device'; mem: SharedArrayBuffer; ctl: SharedArrayBuffer; config: QueueConfig };

const data = workerData as Data;
const memory = new FlatGuestMemory(data.mem);
const ctl = new Int32Array(data.ctl);
const ring = (w: number) => {
  Atomics.add(ctl, w, 1);
  Atomics.notify(ctl, w);
};

if (data.role === 'device') {
  // Checksum device: writes the byte sum of each buffer's readable part into its writable part,
  // with the number and size of the batch it is pushed in.
  const q = createDeviceQueue(memory, data.config);
  let served = 0;
  let batch = 0;
  const popped: DescriptorChain[] = [];
  for (;;) {
    for (let c = q.pop(); c !== null; c = q.pop()) popped.push(c);
    if (popped.length > 0) batch++;
    for (const c of popped) {
      let sum = 0;
      // Work between the pushes of a batch (a net device scatters the next buffer there): the
      // window in which a driver reaping concurrently could see part of the batch.
      for (let pass = 0; pass < 8; pass++) {
        sum = 0;
        for (const s of c.readable) for (const b of memory.view(s.addr, s.len)) sum += b;
      }
      const at = c.writable[0].addr;
      memory.writeU32(at, sum);
      memory.writeU32(at + 4, batch);
      memory.writeU32(at + 8, popped.length);
      q.push(c, REPLY);
      served++;
    }
    popped.length = 0;
    if (q.needsNotification()) ring(IRQ);
    if (Atomics.load(ctl, DONE) === 1) break;
    const seen = Atomics.load(ctl, KICK);
    if (!q.enableNotifications()) Atomics.wait(ctl, KICK, seen);
    q.disableNotifications();
  }
  parentPort!.postMessage({ served });
} else {
  const allocator = new FreeListAllocator(0x1000, DATA - 0x1000);
  const q = createDriverQueue<number>(memory, allocator, { size: data.size, packed: data.packed, features: data.features });
  parentPort!.postMessage({ config: q.config });
  const freeSlots = Array.from({ length: data.size }, (_, k) => k);
  const expected = new Float64Array(data.size);
  let sent = 0;
  let got = 0;
  let bad = 0;
  /** Batches the driver reaped only part of in one reaping pass (the ring published them whole). */
  let partial = 0;
  /** Per batch number, in the current reaping pass: buffers reaped, and the batch's size. */
  const reaped = new Map<number, number>();
  const sizes = new Map<number, number>();
  while (got < data.buffers) {
    let progress = false;
    // Rounds of 1 to 3 buffers, so notifications cover single buffers as well as batches.
    const round = sent + 1 + (sent % 3);
    while (sent < data.buffers && sent < round && freeSlots.length > 0) {
      const slot = freeSlots[freeSlots.length - 1];
      const base = DATA + slot * 128;
      let sum = 0;
      for (let b = 0; b < PAYLOAD; b++) {
        const v = (sent * 13 + b) & 0xff;
        memory.writeU8(base + b, v);
        sum += v;
      }
      expected[slot] = sum;
      const out = [
        { addr: base, len: 16 },
        { addr: base + 16, len: PAYLOAD - 16 },
      ];
      if (!q.add(out, [{ addr: base + 64, len: REPLY }], slot)) break;
      freeSlots.pop();
      sent++;
      progress = true;
    }
    if (q.kick()) ring(KICK);
    for (let u = q.reap(); u !== null; u = q.reap()) {
      const at = DATA + u.token * 128 + 64;
      if (u.len !== REPLY || memory.readU32(at) !== expected[u.token]) bad++;
      const b = memory.readU32(at + 4);
      reaped.set(b, (reaped.get(b) ?? 0) + 1);
      sizes.set(b, memory.readU32(at + 8));
      freeSlots.push(u.token);
      got++;
      progress = true;
    }
    // The pass ended (nothing more used): every batch it touched must be complete.
    for (const [b, n] of reaped) if (sizes.get(b) !== n) partial++;
    reaped.clear();
    sizes.clear();
    if (progress || got === data.buffers) continue;
    const seen = Atomics.load(ctl, IRQ);
    if (!q.enableInterrupts()) Atomics.wait(ctl, IRQ, seen);
    q.disableInterrupts();
  }
  Atomics.store(ctl, DONE, 1);
  ring(KICK);
  parentPort!.postMessage({ got, bad, partial });
}
