// Our driver against our device, every ring variant: the range, flushes making writes durable.
import { hasFeature } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import { CallbackPmemBackend, VIRTIO_PMEM_F_SHMEM_REGION } from '../src/index.js';
import { deferredFlush, PMEM_SIZE, PMEM_START, rig, settle, SHM_LOOKUP, VARIANTS } from './harness.js';

describe.each(VARIANTS)('pmem round trip ($name)', ({ features }) => {
  it('a flush persists the writes made before it, not those after', async () => {
    const r = rig({ start: PMEM_START }, {}, features);
    expect(r.driver.range).toEqual({ start: PMEM_START, size: PMEM_SIZE });
    r.memory.write(PMEM_START + 10, new Uint8Array([1, 2, 3]));
    await r.driver.flush();
    r.memory.writeU8(PMEM_START + 20, 9);
    expect([...r.backend.persisted.subarray(10, 13)]).toEqual([1, 2, 3]);
    expect(r.backend.persisted[20]).toBe(0);
    expect(r.dev.counters.flushes).toBe(1);
  });

  it('many concurrent flushes over an asynchronous backend all complete', async () => {
    const deferred = deferredFlush();
    const r = rig({ start: PMEM_START }, {}, features, () => new CallbackPmemBackend(PMEM_SIZE, deferred.flush));
    const all = Promise.all(Array.from({ length: 20 }, () => r.driver.flush()));
    await settle();
    expect(deferred.calls.length).toBe(20);
    expect(r.driver.pending).toBe(20);
    for (const c of deferred.calls) c.resolve();
    await all;
    expect(r.driver.pending).toBe(0);
  });

  it('a failed flush rejects and the next one succeeds', async () => {
    const r = rig({ start: PMEM_START }, {}, features);
    r.backend.failNextFlushes(1);
    await expect(r.driver.flush()).rejects.toThrow(/flush failed/);
    await expect(r.driver.flush()).resolves.toBeUndefined();
    expect(r.dev.counters).toEqual({ flushes: 1, failures: 1 });
  });

  it('negotiates VIRTIO_PMEM_F_SHMEM_REGION only with a lookup', () => {
    const a = rig({ start: PMEM_START, shmemRegion: true }, {}, features);
    expect(hasFeature(a.driver.device.features, VIRTIO_PMEM_F_SHMEM_REGION)).toBe(false);
    const c = rig({ shmemRegion: true }, { sharedMemory: SHM_LOOKUP }, features);
    expect(hasFeature(c.driver.device.features, VIRTIO_PMEM_F_SHMEM_REGION)).toBe(true);
    expect(c.driver.range).toEqual({ start: PMEM_START, size: PMEM_SIZE });
  });
});
