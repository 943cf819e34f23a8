// Test set-up: our SpiDriver against our SpiDevice over core's LoopbackTransport, with real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import { featureMask, initializeDevice, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue, type DriverQueue, type Segment } from '@virtio/ring';
import { SimulatedSpiBus, SpiDevice, SpiDriver, SpiEeprom, VIRTIO_SPI_REQUESTQ, type SpiBackend, type SpiDeviceOptions, type SpiDriverOptions } from '../src/index.js';

export const MEM_SIZE = 0x100000;
/** Hostile buffers live above the allocator's range. */
export const SCRATCH = MEM_SIZE - 0x10000;

/** The ring layouts and ring features every round-trip test runs over. */
export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

/** A bus with a 1 KiB EEPROM (contents i & 0xff) on chip select 0. */
export function testBus() {
  const eeprom = new SpiEeprom({ size: 1024, contents: Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff) });
  return { bus: new SimulatedSpiBus().attach(0, eeprom), eeprom };
}

/** A chain the device popped, copied at the time, with its device-readable bytes. */
export interface Popped {
  readonly chain: DescriptorChain;
  readonly request: Uint8Array;
}

export function rig(o: { bus?: SpiBackend; device?: Partial<SpiDeviceOptions>; driver?: Partial<SpiDriverOptions>; features?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const tb = testBus();
  const device = new SpiDevice({ bus: o.bus ?? tb.bus, ...o.device });
  const popped: Popped[] = [];
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio', createQueue: (mem, config) => recording(createDeviceQueue(mem, config), popped, memory) });
  const allocator = new FreeListAllocator(0x1000, SCRATCH - 0x1000);
  const driver = SpiDriver.initialize(transport, { memory, allocator, ringFeatures: o.features ?? 0n, ...o.driver });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { memory, device, transport, driver, popped, ...tb };
}

/** A driver written out by hand: places raw requests, reads the answers synchronously. */
export function rawRig(o: { bus?: SpiBackend; device?: Partial<SpiDeviceOptions>; features?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const tb = testBus();
  const device = new SpiDevice({ bus: o.bus ?? tb.bus, ...o.device });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const dd = initializeDevice(transport, {
    memory,
    allocator: new FreeListAllocator(0x1000, SCRATCH - 0x1000),
    wantedFeatures: o.features ?? 0n,
    queues: [{ index: VIRTIO_SPI_REQUESTQ }],
  });
  const q = () => dd.queues[VIRTIO_SPI_REQUESTQ] as DriverQueue<string>;
  const needsReset = () => (transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  let next = SCRATCH;
  const put = (bytes: Uint8Array | number[]): Segment => {
    const b = Uint8Array.from(bytes);
    const addr = next;
    next += (b.length + 15) & ~15;
    memory.write(addr, b);
    return { addr, len: b.length };
  };
  const room = (len: number): Segment => put(new Array(len).fill(0xee));
  const add = (out: Segment[], inSegs: Segment[], token: string) => {
    if (!q().add(out, inSegs, token)) throw new Error('queue full');
  };
  const kick = () => dd.kick(VIRTIO_SPI_REQUESTQ);
  const used = () => {
    const out: { token: string; len: number }[] = [];
    let u;
    while ((u = q().reap()) !== null) out.push({ token: u.token, len: u.len });
    return out;
  };
  const bytes = (s: Segment) => {
    const b = new Uint8Array(s.len);
    memory.read(s.addr, b);
    return [...b];
  };
  return { memory, device, transport, dd, needsReset, put, room, add, kick, used, bytes, ...tb };
}

function recording(q: DeviceQueue, popped: Popped[], mem: FlatGuestMemory): DeviceQueue {
  return new Proxy(q, {
    get(target, prop) {
      if (prop === 'pop') {
        return () => {
          const c = target.pop();
          if (c) {
            const request = new Uint8Array(c.readableLength);
            let at = 0;
            for (const s of c.readable) {
              mem.read(s.addr, request.subarray(at, at + s.len));
              at += s.len;
            }
            popped.push({ chain: { id: c.id, readable: [...c.readable], writable: [...c.writable], readableLength: c.readableLength, writableLength: c.writableLength }, request });
          }
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
