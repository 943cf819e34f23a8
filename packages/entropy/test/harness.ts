// Test set-up: our EntropyDriver against our EntropyDevice over core's LoopbackTransport, with
// real rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import { EntropyDevice, EntropyDriver, type Clock, type EntropyDeviceOptions } from '../src/index.js';

export const MEM_SIZE = 0x100000;

/** The ring layouts and ring features every round-trip test runs over. */
export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

export function rig(opts: EntropyDeviceOptions = {}, driverFeatures: bigint = VARIANTS[0].features) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new EntropyDevice({
    ringFeatures: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET),
    ...opts,
  });
  /** Every chain the device popped, to inspect what the driver exposed. */
  const popped: DescriptorChain[] = [];
  const transport = new LoopbackTransport(device, {
    memory,
    transport: 'mmio',
    createQueue: (mem, config) => recording(createDeviceQueue(mem, config), popped),
  });
  const allocator = new FreeListAllocator(0x1000, MEM_SIZE - 0x1000);
  const driver = EntropyDriver.initialize(transport, { memory, allocator, ringFeatures: driverFeatures });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { memory, device, transport, driver, popped, allocator };
}

function recording(q: DeviceQueue, popped: DescriptorChain[]): DeviceQueue {
  return new Proxy(q, {
    get(target, prop) {
      if (prop === 'pop') {
        return () => {
          const c = target.pop();
          if (c) popped.push(c);
          return c;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A clock whose time moves only when told; timers run on {@link advance}. */
export class ManualClock implements Clock {
  t = 0;
  #next = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    this.t += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= this.t) {
        this.timers.delete(id);
        timer.fn();
      }
    }
  }
}

/** Lets queued microtasks (interrupt delivery, promise continuations) run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0));
