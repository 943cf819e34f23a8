// The PMEM device over the real MMIO transport: shared memory region 0 through the SHM registers.
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { hasFeature } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import { MemoryPmemBackend, PmemDevice, PmemDriver, VIRTIO_PMEM_F_SHMEM_REGION } from '../src/index.js';
import { MEM_SIZE, PMEM_SIZE, PMEM_START, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('pmem over MMIO ($name)', ({ features }) => {
  it.each([true, false])('finds the range (shared memory region: %s) and flushes', async (shm) => {
    const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
    const backend = new MemoryPmemBackend(memory.view(PMEM_START, PMEM_SIZE));
    const dev = new PmemDevice({ backend, start: PMEM_START, shmemRegion: shm });
    let driver: PmemDriver | undefined;
    const mmio = new MmioTransport(dev, {
      memory,
      sharedMemoryBase: (id) => (id === 0 ? PMEM_START : undefined),
      interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()),
    });
    driver = PmemDriver.initialize(new MmioDriverTransport(mmio), {
      memory,
      allocator: new FreeListAllocator(0x1000, PMEM_START - 0x1000),
      ringFeatures: features,
    });
    expect(hasFeature(driver.device.features, VIRTIO_PMEM_F_SHMEM_REGION)).toBe(shm);
    expect(driver.range).toEqual({ start: PMEM_START, size: PMEM_SIZE });
    memory.write(driver.range.start + 100, new Uint8Array([7, 7, 7]));
    const p = driver.flush();
    await settle();
    await p;
    expect([...backend.persisted.subarray(100, 103)]).toEqual([7, 7, 7]);
  });
});
