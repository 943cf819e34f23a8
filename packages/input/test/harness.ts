// Test set-up: our InputDriver against our InputDevice over core's LoopbackTransport, with real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, type DriverTransport } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import { InputDevice, InputDriver, keyboardDescription, type InputDeviceOptions, type InputDriverOptions } from '../src/index.js';

export const MEM_SIZE = 0x100000;

/** The ring layouts and ring features every round-trip test runs over. */
export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

/** Every configuration access the driver made, in order. */
export interface ConfigAccess {
  readonly op: 'read' | 'write';
  readonly offset: number;
  readonly width: number;
  readonly value: number;
}

export function rig(
  devOpts: Partial<InputDeviceOptions> = {},
  driverFeatures: bigint = VARIANTS[0].features,
  drvOpts: Partial<InputDriverOptions> = {},
) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new InputDevice({ description: keyboardDescription(), ...devOpts });
  /** Every chain the device popped, by queue index, to inspect what the driver exposed. */
  const popped: DescriptorChain[][] = [[], []];
  let nextQueue = 0;
  const transport = new LoopbackTransport(device, {
    memory,
    transport: 'mmio',
    createQueue: (mem, config) => recording(createDeviceQueue(mem, config), popped[nextQueue++ % 2]),
  });
  const config: ConfigAccess[] = [];
  const allocator = new FreeListAllocator(0x1000, MEM_SIZE - 0x1000);
  const driver = InputDriver.initialize(recordingConfig(transport, config), { memory, allocator, ringFeatures: driverFeatures, ...drvOpts });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { memory, device, transport, driver, popped, allocator, config };
}

function recordingConfig(t: LoopbackTransport, log: ConfigAccess[]): DriverTransport {
  return new Proxy(t, {
    get(target, prop) {
      if (prop === 'readConfig') {
        return (offset: number, width: 1 | 2 | 4) => {
          const value = target.readConfig(offset, width);
          log.push({ op: 'read', offset, width, value });
          return value;
        };
      }
      if (prop === 'writeConfig') {
        return (offset: number, width: 1 | 2 | 4, value: number) => {
          log.push({ op: 'write', offset, width, value });
          target.writeConfig(offset, width, value);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

function recording(q: DeviceQueue, popped: DescriptorChain[]): DeviceQueue {
  return new Proxy(q, {
    get(target, prop) {
      if (prop === 'pop') {
        return () => {
          const c = target.pop();
          if (c) popped.push({ ...c, readable: [...c.readable], writable: [...c.writable] });
          return c;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Lets queued microtasks (interrupt delivery, promise continuations) run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0));
