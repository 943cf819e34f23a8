// Driver and device of one packed ring on two threads over shared guest memory: descriptor
// flags and event suppression words are the only synchronization (Atomics on both sides), and
// each side sleeps whenever its event suppression lets it. A lost notification hangs the run.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { QueueConfig, RingFeatures } from '../src/queue/types.js';

/** A worker running packed-thread-worker.ts through tsx (worker threads do not inherit vitest's transform). */
function start(data: object): Worker {
  const url = JSON.stringify(new URL('./packed-thread-worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${url}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

function next<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function run(size: number, features: RingFeatures, buffers: number) {
  const mem = new SharedArrayBuffer(2 << 20);
  const ctl = new SharedArrayBuffer(16);
  const driver = start({ role: 'driver', mem, ctl, size, features, buffers });
  try {
    const { config } = await next<{ config: QueueConfig }>(driver);
    const device = start({ role: 'device', mem, ctl, config });
    try {
      const [drv, dev] = await Promise.all([next<{ got: number; bad: number }>(driver), next<{ served: number }>(device)]);
      return { ...drv, ...dev };
    } finally {
      await device.terminate();
    }
  } finally {
    await driver.terminate();
  }
}

describe('packed ring across threads', () => {
  for (const features of [
    { indirectDesc: false, eventIdx: false, inOrder: false },
    { indirectDesc: true, eventIdx: true, inOrder: false },
    { indirectDesc: false, eventIdx: true, inOrder: true },
  ]) {
    const name = Object.entries(features).filter(([, on]) => on).map(([k]) => k).join('+') || 'no features';
    it(`moves 10000 buffers between a driver thread and a device thread intact (${name})`, async () => {
      const r = await run(13, features, 10000);
      expect(r).toMatchObject({ got: 10000, served: 10000, bad: 0 });
    }, 60_000);
  }
});
