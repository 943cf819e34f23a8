// Test set-up: our PmemDriver against our PmemDevice over core's LoopbackTransport, the
// persistent memory a range of the one flat guest memory (guest writes land in the backend's bytes).
import {
  featureMask,
  initializeDevice,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
} from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator, type Segment } from '@virtio/ring';
import { MemoryPmemBackend, PmemDevice, PmemDriver, type PmemBackend, type PmemDeviceOptions, type PmemDriverOptions } from '../src/index.js';

export const MEM_SIZE = 0x200000;
/** The persistent memory occupies [PMEM_START, MEM_SIZE). */
export const PMEM_START = 0x100000;
export const PMEM_SIZE = MEM_SIZE - PMEM_START;

export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

export function device(opts: Partial<PmemDeviceOptions> = {}, makeBackend?: (bytes: Uint8Array) => PmemBackend) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const backend = new MemoryPmemBackend(memory.view(PMEM_START, PMEM_SIZE));
  const dev = new PmemDevice({ backend: makeBackend ? makeBackend(backend.bytes) : backend, ...opts });
  const transport = new LoopbackTransport(dev, { memory, transport: 'mmio' });
  return { memory, backend, dev, transport };
}

/** A lookup as a VMM that maps shared memory region 0 at PMEM_START would answer it. */
export const SHM_LOOKUP = (id: number) => (id === 0 ? { base: PMEM_START, size: PMEM_SIZE } : undefined);

export function rig(devOpts: Partial<PmemDeviceOptions> = { start: PMEM_START }, drvOpts: Partial<PmemDriverOptions> = {}, ringFeatures = 0n, makeBackend?: (bytes: Uint8Array) => PmemBackend) {
  const d = device(devOpts, makeBackend);
  const allocator = new FreeListAllocator(0x1000, PMEM_START - 0x1000);
  const driver = PmemDriver.initialize(d.transport, { memory: d.memory, allocator, ringFeatures, ...drvOpts });
  d.transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { ...d, driver, allocator };
}

/** A hand-written driver placing whatever chains a test writes on req_vq. */
export function rawDriver(devOpts: Partial<PmemDeviceOptions> = { start: PMEM_START }, makeBackend?: (bytes: Uint8Array) => PmemBackend, extraFeatures = 0n) {
  const d = device(devOpts, makeBackend);
  const allocator = new FreeListAllocator(0x1000, PMEM_START - 0x1000);
  const dd = initializeDevice(d.transport, { memory: d.memory, allocator, wantedFeatures: featureMask(VIRTIO_F_VERSION_1) | extraFeatures, queues: [{ index: 0 }] });
  /** Places one chain and notifies; returns the used lengths reaped right away. */
  const send = (out: Segment[], inSegs: Segment[]): number[] => {
    const q = dd.queues[0]!;
    if (!q.add(out, inSegs, 'raw')) throw new Error('queue full');
    dd.kick(0);
    return reap();
  };
  const reap = (): number[] => {
    const lens: number[] = [];
    let u;
    while ((u = dd.queues[0]?.reap())) lens.push(u.len);
    return lens;
  };
  const needsReset = () => (d.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  return { ...d, dd, send, reap, needsReset };
}

/** A flush the test completes by hand. */
export function deferredFlush() {
  const calls: { resolve(): void; reject(e: Error): void }[] = [];
  const flush = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, flush };
}

export const settle = () => new Promise<void>((r) => setTimeout(r, 0));
