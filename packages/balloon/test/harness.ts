// Test set-up: our BalloonDriver against our BalloonDevice over core's LoopbackTransport, real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import {
  featureMask,
  initializeDevice,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  type ActivateContext,
} from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue, type Segment } from '@virtio/ring';
import {
  balloonQueueIndex,
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

export function device(opts: BalloonDeviceOptions = {}, wrap: (d: BalloonDevice) => BalloonDevice = (d) => d) {
  const backend = new MemoryBalloonBackend();
  const real = new BalloonDevice({
    backend,
    ringFeatures: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET),
    ...opts,
  });
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const transport = new LoopbackTransport(wrap(real), { memory, transport: 'mmio' });
  return { dev: real, backend, memory, transport };
}

export function rig(
  devOpts: BalloonDeviceOptions = {},
  drvOpts: Partial<BalloonDriverOptions> = {},
  ringFeatures: bigint = VARIANTS[0].features,
  wrap?: (d: BalloonDevice) => BalloonDevice,
) {
  const d = device(devOpts, wrap);
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

/** A device whose activation records, per queue index, every chain the device popped. */
export function recordingDevice(dev: BalloonDevice): { device: BalloonDevice; popped: Map<number, DescriptorChain[]> } {
  const popped = new Map<number, DescriptorChain[]>();
  const record = (q: DeviceQueue, index: number): DeviceQueue =>
    new Proxy(q, {
      get(target, prop) {
        if (prop === 'pop') {
          return () => {
            const c = target.pop();
            if (c) {
              if (!popped.has(index)) popped.set(index, []);
              popped.get(index)!.push(c);
            }
            return c;
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  const device = new Proxy(dev, {
    get(target, prop) {
      if (prop === 'activate') {
        return (ctx: ActivateContext) =>
          target.activate({
            features: ctx.features,
            memory: ctx.memory,
            queues: ctx.queues.map((q, i) => q && record(q, i)),
            interrupt: ctx.interrupt,
            needsReset: (e) => ctx.needsReset(e),
          });
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { device, popped };
}

/**
 * A hand-written driver: initialized with `features` and the balloon `queues` (VIRTIO_BALLOON_INFLATEQ ..
 * REPORTING_VQ, placed at their indices under `features`), placing whatever chains a test writes;
 * `send` takes a balloon queue too.
 */
export function rawDriver(opts: BalloonDeviceOptions, features: bigint, queues: number[], poison?: number) {
  const at = (queue: number) => balloonQueueIndex(queue, features) ?? queue;
  const d = device(opts);
  const allocator = new FreeListAllocator(0x1000, POOL_START - 0x1000);
  const dd = initializeDevice(d.transport, {
    memory: d.memory,
    allocator,
    wantedFeatures: features,
    requiredFeatures: features,
    queues: queues.map((queue) => ({ index: at(queue) })),
    setup: () => {
      if (poison !== undefined) d.transport.writeConfig(12, 4, poison);
    },
  });
  let interrupts = 0;
  d.transport.onInterrupt = () => interrupts++;
  /** Places one chain on queue `index` and notifies; returns whether the device used it. */
  const send = (queue: number, out: Segment[], inSegs: Segment[] = []): boolean => {
    const index = at(queue);
    const q = dd.queues[index]!;
    if (!q.add(out, inSegs, 'raw')) throw new Error('queue full');
    dd.kick(index);
    let used = false;
    while (q.reap()) used = true;
    return used;
  };
  /** Writes le32 values at `addr` and returns the segment. */
  const u32s = (addr: number, values: number[]): Segment => {
    values.forEach((v, i) => d.memory.writeU32(addr + i * 4, v));
    return { addr, len: values.length * 4 };
  };
  const needsReset = () => (d.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  return { ...d, dd, send, u32s, needsReset, interrupts: () => interrupts };
}
