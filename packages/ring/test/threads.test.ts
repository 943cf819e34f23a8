// Driver and device of one queue on two threads over shared guest memory, through the
// factory: the ring's Atomics fields are the only synchronization, and each side sleeps when
// notification suppression lets it. A wrong notification decision hangs the run (and times
// out); a reordering of ring writes corrupts a checksum; a batch published piecemeal shows up
// as a reaping pass that got only part of a device batch.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { QueueConfig, RingFeatures } from '../src/queue/types.js';

/** Layouts this test runs; the packed layout can join by adding 'packed'. */
const LAYOUTS: readonly ('split' | 'packed')[] = ['split', 'packed'];

function start(data: object): Worker {
  const url = JSON.stringify(new URL('./thread-worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${url}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

function next<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function run(packed: boolean, size: number, features: RingFeatures, buffers: number) {
  const mem = new SharedArrayBuffer(2 << 20);
  const ctl = new SharedArrayBuffer(16);
  const driver = start({ role: 'driver', mem, ctl, size, packed, features, buffers });
  try {
    const { config } = await next<{ config: QueueConfig }>(driver);
    const device = start({ role: 'device', mem, ctl, config });
    try {
      const [drv, dev] = await Promise.all([next<{ got: number; bad: number; partial: number }>(driver), next<{ served: number }>(device)]);
      return { ...drv, ...dev };
    } finally {
      await device.terminate();
    }
  } finally {
    await driver.terminate();
  }
}

describe.each(LAYOUTS)('%s ring across threads', (layout) => {
  for (const features of [
    { indirectDesc: false, eventIdx: false, inOrder: false },
    { indirectDesc: true, eventIdx: true, inOrder: false },
    { indirectDesc: false, eventIdx: true, inOrder: true },
  ]) {
    const name = Object.entries(features).filter(([, on]) => on).map(([k]) => k).join('+') || 'no features';
    it(`[split.drv.19] [split.dev.12] moves 10000 buffers between a driver thread and a device thread without a lost notification, never reaping part of a device batch (${name})`, async () => {
      const r = await run(layout === 'packed', 16, features, 10000);
      expect(r).toMatchObject({ got: 10000, served: 10000, bad: 0, partial: 0 });
    }, 60_000);
  }
});
