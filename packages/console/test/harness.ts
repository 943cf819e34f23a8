// Test set-up: our ConsoleDriver against our ConsoleDevice over core's LoopbackTransport, with
// real rings in one flat guest memory and interrupts delivered asynchronously.
import { featureMask, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue, type DriverQueue, type Segment } from '@virtio/ring';
import { ConsoleDevice, ConsoleDriver, type ConsoleDeviceOptions, type ConsoleDriverOptions, type ConsoleSize } from '../src/index.js';

export const MEM_SIZE = 0x200000;

export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

/** What the driver reported, in order. */
export interface Seen {
  data: Map<number, number[]>;
  added: number[];
  removed: number[];
  resizes: [number, ConsoleSize][];
  host: [number, boolean][];
}

export function rig(
  deviceOpts: ConsoleDeviceOptions = {},
  driverOpts: Partial<ConsoleDriverOptions> = {},
  ringFeatures: bigint = VARIANTS[0].features,
) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new ConsoleDevice(deviceOpts);
  const popped: DescriptorChain[] = [];
  const transport = new LoopbackTransport(device, {
    memory,
    transport: 'mmio',
    createQueue: (mem, config) => recording(createDeviceQueue(mem, config), popped),
  });
  const allocator = new FreeListAllocator(0x1000, MEM_SIZE - 0x1000);
  const seen: Seen = { data: new Map(), added: [], removed: [], resizes: [], host: [] };
  // Interrupts can fire during initialization (DEVICE_READY is answered at once): bind late.
  let driver: ConsoleDriver | undefined;
  transport.onInterrupt = () => queueMicrotask(() => driver?.handleInterrupt());
  driver = ConsoleDriver.initialize(transport, {
    memory,
    allocator,
    ringFeatures,
    events: {
      data: (p, b) => {
        const list = seen.data.get(p) ?? [];
        list.push(...b);
        seen.data.set(p, list);
      },
      portAdded: (p) => seen.added.push(p.id),
      portRemoved: (id) => seen.removed.push(id),
      resize: (p, s) => seen.resizes.push([p, s]),
      hostConnected: (p, c) => seen.host.push([p, c]),
    },
    ...driverOpts,
  });
  const text = (port: number) => new TextDecoder().decode(Uint8Array.from(seen.data.get(port) ?? []));
  const needsReset = () => (transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  /** Exposes a chain on queue `index` behind the driver's back, as a hostile driver would. */
  const expose = (index: number, out: Segment[], inSegs: Segment[]) => {
    const q = driver!.device.queues[index] as DriverQueue;
    if (!q.add(out, inSegs, 'hostile')) throw new Error('ring full');
    driver!.device.kick(index);
  };
  /** Sends a raw control message (struct virtio_console_control plus `extra`) on the control transmitq. */
  const rawControl = (id: number, event: number, value: number, len = 8) => {
    const addr = allocator.alloc(Math.max(len, 8), 8);
    memory.writeU32(addr, id);
    memory.writeU16(addr + 4, event);
    memory.writeU16(addr + 6, value);
    expose(3, [{ addr, len }], []);
  };
  return { memory, device, transport, driver, popped, allocator, seen, text, needsReset, expose, rawControl };
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

/** Lets queued microtasks (interrupt delivery, promise continuations) run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

export const enc = (s: string) => new TextEncoder().encode(s);
