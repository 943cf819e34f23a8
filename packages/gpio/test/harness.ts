// Test set-up: our GpioDriver against our GpioDevice over core's LoopbackTransport, with real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import { featureMask, hasFeature, initializeDevice, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue, type DriverQueue, type GuestMemory, type Segment } from '@virtio/ring';
import { GpioDevice, GpioDriver, SimulatedGpioLines, VIRTIO_GPIO_EVENTQ, VIRTIO_GPIO_F_IRQ, VIRTIO_GPIO_REQUESTQ, type GpioDeviceOptions, type GpioDriverOptions, type SimulatedGpioOptions } from '../src/index.js';

export const MEM_SIZE = 0x100000;

/** The ring layouts and ring features every round-trip test runs over. */
export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

export const NAMES = ['MMC-CD', null, null, null, null, 'Red LED Vdd', null, 'ethernet reset', null, null];

export interface RigOptions {
  readonly lines?: Partial<SimulatedGpioOptions>;
  readonly device?: Partial<GpioDeviceOptions>;
  readonly driver?: Partial<GpioDriverOptions>;
  readonly features?: bigint;
}

export function rig(o: RigOptions = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const lines = new SimulatedGpioLines({ ngpio: 10, names: NAMES, ...o.lines });
  const device = new GpioDevice({ lines, ...o.device });
  /** Every chain the device popped and pushed, in order, to inspect what the driver exposed. */
  const log: RingOp[] = [];
  let nextQueue = 0;
  const transport = new LoopbackTransport(device, {
    memory,
    transport: 'mmio',
    createQueue: (mem, config) => recording(createDeviceQueue(mem, config), nextQueue++ % 2, log, mem),
  });
  const allocator = new FreeListAllocator(0x1000, MEM_SIZE - 0x11000);
  const driver = GpioDriver.initialize(transport, { memory, allocator, ringFeatures: o.features ?? 0n, ...o.driver });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  const needsReset = () => (transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  /** Exposes a chain the way a hostile driver would, behind our driver's back; returns its token. */
  const expose = (queue: number, out: Segment[], inSegs: Segment[], token: unknown = Symbol('hostile')) => {
    const q = driver.device.queues[queue] as DriverQueue;
    if (!q.add(out, inSegs, token)) throw new Error('queue full');
    driver.device.kick(queue);
    return token;
  };
  /** The device-readable bytes of the chains popped from queue `qi`, in order. */
  const requests = (qi: number) => log.filter((e) => e.qi === qi && e.op === 'pop').map((e) => e.request);
  return { memory, lines, device, transport, driver, log, requests, allocator, needsReset, expose };
}

/** A chain the device popped or pushed on queue `qi`. */
export interface RingOp {
  readonly qi: number;
  readonly op: 'pop' | 'push';
  readonly chain: DescriptorChain;
  /** The chain's device-readable bytes when popped. */
  readonly request: Uint8Array;
}

function recording(q: DeviceQueue, qi: number, log: RingOp[], mem: GuestMemory): DeviceQueue {
  return new Proxy(q, {
    get(target, prop) {
      if (prop === 'pop') {
        return () => {
          const c = target.pop();
          if (c) log.push({ qi, op: 'pop', chain: snapshot(c), request: gather(mem, c) });
          return c;
        };
      }
      if (prop === 'push') {
        return (c: DescriptorChain, written: number) => {
          log.push({ qi, op: 'push', chain: snapshot(c), request: new Uint8Array(0) });
          target.push(c, written);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A copy of the chain as it is now (a packed queue refills its chain objects after the push). */
const snapshot = (c: DescriptorChain): DescriptorChain => ({
  id: c.id,
  readable: [...c.readable],
  writable: [...c.writable],
  readableLength: c.readableLength,
  writableLength: c.writableLength,
});

function gather(mem: GuestMemory, c: DescriptorChain): Uint8Array {
  const out = new Uint8Array(c.readableLength);
  let at = 0;
  for (const s of c.readable) {
    mem.read(s.addr, out.subarray(at, at + s.len));
    at += s.len;
  }
  return out;
}

/** Hostile buffers live above the allocator's range. */
export const SCRATCH = MEM_SIZE - 0x10000;

/** Lets queued microtasks (interrupt delivery, promise continuations) run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * A driver written out by hand over initializeDevice: sends raw messages and eventq buffers
 * and reads the device's answers, so device behaviour is observable byte by byte.
 */
export function rawRig(o: { lines?: Partial<SimulatedGpioOptions>; device?: Partial<GpioDeviceOptions>; features?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const lines = new SimulatedGpioLines({ ngpio: 10, names: NAMES, ...o.lines });
  const device = new GpioDevice({ lines, ...o.device });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const allocator = new FreeListAllocator(0x1000, MEM_SIZE - 0x1000);
  const wanted = o.features ?? featureMask(VIRTIO_GPIO_F_IRQ);
  const irq = hasFeature(wanted & device.deviceFeatures, VIRTIO_GPIO_F_IRQ);
  const dd = initializeDevice(transport, {
    memory,
    allocator,
    wantedFeatures: wanted,
    queues: [{ index: VIRTIO_GPIO_REQUESTQ }, ...(irq ? [{ index: VIRTIO_GPIO_EVENTQ }] : [])],
  });
  const needsReset = () => (transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  const rq = () => dd.queues[VIRTIO_GPIO_REQUESTQ] as DriverQueue<number>;
  const eq = () => dd.queues[VIRTIO_GPIO_EVENTQ] as DriverQueue<number>;

  /** Queues a message (request then a response of `responseSize` bytes, pre-filled with 0xee); @returns its address. */
  const submit = (type: number, gpio: number, value: number, responseSize = 2): number => {
    const addr = allocator.alloc(8 + responseSize, 8);
    memory.writeU16(addr, type);
    memory.writeU16(addr + 2, gpio);
    memory.writeU32(addr + 4, value >>> 0);
    memory.write(addr + 8, new Uint8Array(responseSize).fill(0xee));
    if (!rq().add([{ addr, len: 8 }], [{ addr: addr + 8, len: responseSize }], addr)) throw new Error('requestq full');
    return addr;
  };
  /** Makes queued messages available and notifies; the device answers synchronously. @returns the completions in used-ring order */
  const flush = (): { addr: number; len: number; response: Uint8Array }[] => {
    dd.kick(VIRTIO_GPIO_REQUESTQ);
    const out: { addr: number; len: number; response: Uint8Array }[] = [];
    let u;
    while ((u = rq().reap()) !== null) {
      const response = new Uint8Array(u.len);
      memory.read(u.token + 8, response);
      out.push({ addr: u.token, len: u.len, response });
      allocator.free(u.token);
    }
    return out;
  };
  /** One message, answered: [status, value] and the used length. */
  const send = (type: number, gpio: number, value: number, responseSize = 2) => {
    submit(type, gpio, value, responseSize);
    const [c] = flush();
    return c;
  };
  /** Queues the eventq buffer pair of `line` (irq_response pre-filled with 0xee). */
  const unmask = (line: number) => {
    const addr = allocator.alloc(4, 4);
    memory.writeU16(addr, line);
    memory.writeU8(addr + 2, 0xee);
    if (!eq().add([{ addr, len: 2 }], [{ addr: addr + 2, len: 1 }], addr)) throw new Error('eventq full');
    dd.kick(VIRTIO_GPIO_EVENTQ);
  };
  /** Eventq buffers the device returned: line, status, used length. */
  const events = (): { line: number; status: number; len: number }[] => {
    const out: { line: number; status: number; len: number }[] = [];
    let u;
    while ((u = eq().reap()) !== null) {
      out.push({ line: memory.readU16(u.token), status: memory.readU8(u.token + 2), len: u.len });
      allocator.free(u.token);
    }
    return out;
  };
  return { memory, lines, device, transport, dd, allocator, needsReset, submit, flush, send, unmask, events };
}
