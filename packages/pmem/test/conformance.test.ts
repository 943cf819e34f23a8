// Requirements of spec 5.19, each checked against a counterpart that would expose a break.
import { DeviceInitError } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import { FreeListAllocator } from '@virtio/ring';
import { CallbackPmemBackend, PmemDevice, PmemDriver, VIRTIO_PMEM_REQ_TYPE_FLUSH } from '../src/index.js';
import { deferredFlush, device, PMEM_SIZE, PMEM_START, rawDriver, rig, settle, SHM_LOOKUP } from './harness.js';

const REQ = 0x80000;
const RESP = 0x80100;

function readConfig64(t: { readConfig(o: number, w: 4): number }, off: number): number {
  return t.readConfig(off, 4) + t.readConfig(off + 4, 4) * 2 ** 32;
}

describe('pmem device conformance', () => {
  it('[pmem.dev.1] with SHMEM_REGION negotiated: shared memory region 0, start and size read 0', () => {
    const r = rig({ start: PMEM_START, shmemRegion: true }, { sharedMemory: SHM_LOOKUP });
    expect(r.dev.sharedMemoryRegions).toEqual([{ id: 0, size: PMEM_SIZE }]);
    expect(readConfig64(r.transport, 0)).toBe(0);
    expect(readConfig64(r.transport, 8)).toBe(0);
  });

  it('[pmem.dev.2] without SHMEM_REGION: start is the absolute address and size the length in bytes', () => {
    const r = rig({ start: PMEM_START + 0x7_0000_0000, shmemRegion: true });
    expect(readConfig64(r.transport, 0)).toBe(PMEM_START + 0x7_0000_0000);
    expect(readConfig64(r.transport, 8)).toBe(PMEM_SIZE);
    // A device that only knows the shared memory region cannot present an address: it refuses FEATURES_OK.
    expect(() => rig({ shmemRegion: true })).toThrow(DeviceInitError);
  });

  it('[pmem.dev.3] completes a flush only after the backend made the earlier writes durable', async () => {
    const deferred = deferredFlush();
    let durable = 0;
    const r = rig({ start: PMEM_START }, {}, 0n, (bytes) => new CallbackPmemBackend(bytes.length, () => deferred.flush().then(() => void (durable = bytes[0]))));
    r.memory.writeU8(PMEM_START, 42);
    let done = false;
    const p = r.driver.flush().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    deferred.calls[0].resolve();
    await p;
    expect(durable).toBe(42);
  });

  it('[pmem.dev.3] a reset waits for in-flight flushes and nothing is written to the ring afterwards', async () => {
    const deferred = deferredFlush();
    const r = rawDriver({ start: PMEM_START }, (b) => new CallbackPmemBackend(b.length, deferred.flush));
    r.memory.writeU32(REQ, VIRTIO_PMEM_REQ_TYPE_FLUSH);
    r.memory.writeU32(RESP, 0x12345678);
    expect(r.send([{ addr: REQ, len: 4 }], [{ addr: RESP, len: 4 }])).toEqual([]);
    r.transport.setStatus(0);
    expect(r.transport.getStatus()).not.toBe(0); // the reset is not complete while the flush runs
    deferred.calls[0].resolve();
    await settle();
    expect(r.transport.getStatus()).toBe(0);
    expect(r.memory.readU32(RESP)).toBe(0x12345678);
  });

  it('[pmem.dev.4] answers 0 for success and -1 for failure', async () => {
    const r = rawDriver();
    const ask = (type: number) => {
      r.memory.writeU32(REQ, type);
      r.memory.writeU32(RESP, 0x55555555);
      expect(r.send([{ addr: REQ, len: 4 }], [{ addr: RESP, len: 4 }])).toEqual([4]);
      return r.memory.readU32(RESP);
    };
    expect(ask(VIRTIO_PMEM_REQ_TYPE_FLUSH)).toBe(0);
    expect(ask(7)).toBe(0xffffffff);
    r.backend.failNextFlushes(1);
    expect(ask(VIRTIO_PMEM_REQ_TYPE_FLUSH)).toBe(0xffffffff);
    expect(ask(VIRTIO_PMEM_REQ_TYPE_FLUSH)).toBe(0);
  });
});

describe('pmem driver conformance', () => {
  it('[pmem.drv.1] with SHMEM_REGION takes the range from shared memory region 0, never start/size', () => {
    const d = device({ start: 0x4000_0000, shmemRegion: true });
    // A device that (against its SHOULD) leaves start/size set: the driver must ignore them.
    const readConfig = d.dev.readConfig.bind(d.dev);
    d.dev.readConfig = (o, w) => (o < 8 ? (o === 4 ? 0x1 : 0xdead0000) : readConfig(o, w) + 1);
    const driver = PmemDriver.initialize(d.transport, { memory: d.memory, allocator: new FreeListAllocator(0x1000, PMEM_START - 0x1000), sharedMemory: SHM_LOOKUP });
    expect(driver.range).toEqual({ start: PMEM_START, size: PMEM_SIZE });
  });

  it('[pmem.drv.2] without SHMEM_REGION reads the range from start and size', () => {
    const d = device({ start: 0x1_2345_6000 });
    const driver = PmemDriver.initialize(d.transport, { memory: d.memory, allocator: new FreeListAllocator(0x1000, PMEM_START - 0x1000), sharedMemory: SHM_LOOKUP });
    expect(driver.range).toEqual({ start: 0x1_2345_6000, size: PMEM_SIZE });
  });

  it('rejects a device presenting an empty range and resets it', () => {
    const d = device({ start: PMEM_START });
    d.dev.readConfig = () => 0;
    expect(() => PmemDriver.initialize(d.transport, { memory: d.memory, allocator: new FreeListAllocator(0x1000, PMEM_START - 0x1000) })).toThrow(/no usable range/);
    expect(d.transport.getStatus()).toBe(0);
  });

  it('PmemDevice checks its options', () => {
    expect(() => new PmemDevice({ backend: new CallbackPmemBackend(4096, () => undefined), start: -1 })).toThrow(RangeError);
    expect(() => new PmemDevice({ backend: new CallbackPmemBackend(4096, () => undefined), shmemRegion: false })).toThrow(RangeError);
    expect(() => new CallbackPmemBackend(0, () => undefined)).toThrow(RangeError);
  });
});
