// Test set-up: our BalloonDriver against our BalloonDevice over core's LoopbackTransport, real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import {
  BalloonDevice,
  BalloonDriver,
  MemoryBalloonBackend,
  RangePagePool,
  type BalloonDeviceOptions,
  type BalloonDriverOptions,
} from '../src/index.js';

export const MEM_SIZE = 0x400000;
/** Rings and request buffers live below POOL_START; the page pool above it. */
export const POOL_START = 0x100000;
export const POOL_PAGES = (MEM_SIZE - POOL_START) / 4096;

export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

export function device(opts: BalloonDeviceOptions = {}) {
  const backend = new MemoryBalloonBackend();
  const dev = new BalloonDevice({
    backend,
    ringFeatures: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET),
    ...opts,
  });
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const transport = new LoopbackTransport(dev, { memory, transport: 'mmio' });
  return { dev, backend, memory, transport };
}

export function rig(
  devOpts: BalloonDeviceOptions = {},
  drvOpts: Partial<BalloonDriverOptions> = {},
  ringFeatures: bigint = VARIANTS[0].features,
) {
  const d = device(devOpts);
  const allocator = new FreeListAllocator(0x1000, POOL_START - 0x1000);
  const pool = new RangePagePool(POOL_START, POOL_PAGES);
  const driver = BalloonDriver.initialize(d.transport, { memory: d.memory, allocator, pages: pool, ringFeatures, ...drvOpts });
  let configChanges = 0;
  d.transport.onInterrupt = () =>
    queueMicrotask(() => {
      if (driver.handleInterrupt()) configChanges++;
    });
  return { ...d, driver, pool, allocator, configChanges: () => configChanges };
}

/** Lets queued microtasks (interrupt delivery, promise continuations) run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0));
