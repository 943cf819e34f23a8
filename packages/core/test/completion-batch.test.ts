import { describe, expect, it } from 'vitest';
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';
import { CompletionBatch, type ActivateContext } from '@virtio/core';

function fakeQueue(notify = true) {
  const pushed: [number, number][] = [];
  let batches = 0;
  const q = {
    push: (chain: DescriptorChain, written: number) => void pushed.push([chain.id, written]),
    needsNotification: () => (batches++, notify),
  } as unknown as DeviceQueue;
  return { q, pushed, batches: () => batches };
}

function fakeCtx() {
  const used: number[] = [];
  const resets: Error[] = [];
  const ctx = {
    interrupt: { usedBuffer: (i: number) => used.push(i), configChange() {} },
    needsReset: (e: Error) => resets.push(e),
  } as unknown as ActivateContext;
  return { ctx, used, resets };
}

const chain = (id: number) => ({ id, readable: [], writable: [], readableLength: 0, writableLength: 0 }) as DescriptorChain;
const tick = () => new Promise<void>((r) => queueMicrotask(r));

describe('CompletionBatch', () => {
  it('pushes every completion of a microtask, then ends each touched queue batch once', async () => {
    const a = fakeQueue();
    const b = fakeQueue(false);
    const { ctx, used } = fakeCtx();
    const queues = [a.q, b.q];
    const batch = new CompletionBatch(2, { ctx: () => ctx, queue: (i) => queues[i] });
    batch.add({ ctx, q: a.q, qi: 0, chain: chain(1), write: () => 3 });
    batch.add({ ctx, q: a.q, qi: 0, chain: chain(2), write: () => 5 });
    batch.add({ ctx, q: b.q, qi: 1, chain: chain(7), write: () => 1 });
    expect(a.pushed).toEqual([]);
    await tick();
    expect(a.pushed).toEqual([[1, 3], [2, 5]]);
    expect(b.pushed).toEqual([[7, 1]]);
    expect([a.batches(), b.batches()]).toEqual([1, 1]);
    expect(used).toEqual([0]);
  });

  it('drops completions of a reset activation or a reset queue without writing', async () => {
    const a = fakeQueue();
    const { ctx, used } = fakeCtx();
    let live: ActivateContext | undefined = ctx;
    let queue: DeviceQueue | undefined = a.q;
    const batch = new CompletionBatch(1, { ctx: () => live, queue: () => queue });
    let writes = 0;
    batch.add({ ctx, q: a.q, qi: 0, chain: chain(1), write: () => ++writes });
    queue = undefined; // queue reset before the batch ran
    await tick();
    queue = a.q;
    batch.add({ ctx, q: a.q, qi: 0, chain: chain(2), write: () => ++writes });
    batch.clear(); // device reset
    live = undefined;
    await tick();
    expect(writes).toBe(0);
    expect(a.pushed).toEqual([]);
    expect(used).toEqual([]);
  });

  it('a throwing write marks the live activation DEVICE_NEEDS_RESET instead of escaping', async () => {
    const a = fakeQueue();
    const { ctx, resets } = fakeCtx();
    const batch = new CompletionBatch(1, { ctx: () => ctx, queue: () => a.q });
    batch.add({ ctx, q: a.q, qi: 0, chain: chain(1), write: () => { throw new Error('broken'); } });
    await tick();
    expect(resets.map((e) => e.message)).toEqual(['broken']);
  });
});
