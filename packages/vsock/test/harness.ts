// Test set-up: our VsockDriver against our VsockDevice over core's LoopbackTransport, with real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, type ActivateContext, type VirtioDevice } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { ChainReader, createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import { decodeHeader, VsockDevice, VsockDriver, type VsockDeviceOptions, type VsockDriverOptions, type VsockHeader } from '../src/index.js';

export const MEM_SIZE = 0x400000;
export const GUEST_CID = 3;

export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

/** Forwards to the device and keeps the activation, so a test can act as a hostile device. */
function capturing(device: VsockDevice, sink: { ctx?: ActivateContext }): VirtioDevice {
  return {
    deviceId: device.deviceId,
    deviceFeatures: device.deviceFeatures,
    numQueues: device.numQueues,
    configSize: device.configSize,
    queueMaxSize: (i) => device.queueMaxSize(i),
    readConfig: (o, w) => device.readConfig(o, w),
    writeConfig: () => device.writeConfig(),
    attach: (h) => device.attach(h),
    activate: (ctx) => {
      sink.ctx = ctx;
      device.activate(ctx);
    },
    queueNotify: (i) => device.queueNotify(i),
    enableQueue: (i) => device.enableQueue(i),
    resetQueue: () => device.resetQueue(),
    reset: () => device.reset(),
  };
}

export function rig(devOpts: Partial<VsockDeviceOptions> = {}, ringFeatures: bigint = 0n, drvOpts: Partial<VsockDriverOptions> = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new VsockDevice({ guestCid: GUEST_CID, ...devOpts });
  /** Chains the device popped, per queue. */
  const popped: DescriptorChain[][] = [[], [], []];
  let next = 0;
  /** Per queue: while true the device sees no available chain (a stalled device queue). */
  const blocked = [false, false, false];
  /** Headers of every packet the guest put on the tx queue that the device took, decoded when popped. */
  const tx: VsockHeader[] = [];
  const act: { ctx?: ActivateContext } = {};
  const transport = new LoopbackTransport(capturing(device, act), {
    memory,
    transport: 'mmio',
    createQueue: (mem, config) => {
      const index = next++ % 3;
      return recording(createDeviceQueue(mem, config), popped[index], () => blocked[index], (c) => {
        if (index !== 1 || c.readableLength < 44) return;
        const b = new Uint8Array(44);
        new ChainReader(memory, c.readable).read(b);
        tx.push(decodeHeader(new DataView(b.buffer)));
      });
    },
  });
  const allocator = new FreeListAllocator(0x1000, MEM_SIZE - 0x1000);
  const driver = VsockDriver.initialize(transport, { memory, allocator, ringFeatures, ...drvOpts });
  const irq = { on: true };
  transport.onInterrupt = () => queueMicrotask(() => irq.on && driver.handleInterrupt());
  const txHeaders = (): VsockHeader[] => tx;
  return { memory, device, transport, driver, popped, allocator, act, irq, txHeaders, blocked };
}

function recording(q: DeviceQueue, popped: DescriptorChain[], isBlocked: () => boolean, onPop: (c: DescriptorChain) => void): DeviceQueue {
  return new Proxy(q, {
    get(target, prop) {
      if (prop === 'pop') {
        return () => {
          if (isBlocked()) return null;
          const c = target.pop();
          if (c) {
            popped.push({ ...c, readable: [...c.readable], writable: [...c.writable] });
            onPop(c);
          }
          return c;
        };
      }
      if (prop === 'enableNotifications') return () => !isBlocked() && target.enableNotifications();
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Lets queued microtasks and zero-delay timers run, `n` rounds. */
export async function settle(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/** Bytes 0..n-1 of a recognisable pattern. */
export const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
