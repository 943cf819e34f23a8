// Test set-up: our I2cDriver against our I2cDevice over core's LoopbackTransport, with real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them).
import { featureMask, initializeDevice, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue, type DriverQueue, type GuestMemory, type Segment } from '@virtio/ring';
import {
  I2cDevice,
  I2cDriver,
  I2cEeprom,
  SimulatedI2cBus,
  VIRTIO_I2C_F_ZERO_LENGTH_REQUEST,
  VIRTIO_I2C_REQUESTQ,
  type I2cBackend,
  type I2cDeviceOptions,
  type I2cDriverOptions,
} from '../src/index.js';

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

/** A bus with a 256-byte EEPROM at 0x50 and a 4 KiB one (2-byte addresses) at 10-bit 0x2a5. */
export function testBus() {
  const small = new I2cEeprom({ size: 256, contents: Uint8Array.from({ length: 256 }, (_, i) => i) });
  const big = new I2cEeprom({ size: 4096 });
  const bus = new SimulatedI2cBus().attach(0x50, small).attach(0x2a5, big, { tenBit: true });
  return { bus, small, big };
}

/** A chain the device popped or pushed, copied at the time. */
export interface RingOp {
  readonly op: 'pop' | 'push';
  readonly chain: DescriptorChain;
  /** The chain's device-readable bytes when popped. */
  readonly request: Uint8Array;
  readonly written: number;
}

export function rig(o: { bus?: I2cBackend; device?: Partial<I2cDeviceOptions>; driver?: Partial<I2cDriverOptions>; features?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const tb = testBus();
  const device = new I2cDevice({ bus: o.bus ?? tb.bus, ...o.device });
  const log: RingOp[] = [];
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio', createQueue: (mem, config) => recording(createDeviceQueue(mem, config), log, mem) });
  const allocator = new FreeListAllocator(0x1000, SCRATCH - 0x1000);
  const driver = I2cDriver.initialize(transport, { memory, allocator, ringFeatures: o.features ?? 0n, ...o.driver });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  const needsReset = () => (transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  return { memory, device, transport, driver, log, allocator, needsReset, ...tb };
}

/**
 * A driver written out by hand over initializeDevice: places raw requests and reads the
 * device's answers synchronously, so device behaviour is observable byte by byte.
 */
export function rawRig(o: { bus?: I2cBackend; features?: bigint } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const tb = testBus();
  const device = new I2cDevice({ bus: o.bus ?? tb.bus });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const allocator = new FreeListAllocator(0x1000, SCRATCH - 0x1000);
  const dd = initializeDevice(transport, {
    memory,
    allocator,
    wantedFeatures: featureMask(VIRTIO_I2C_F_ZERO_LENGTH_REQUEST) | (o.features ?? 0n),
    queues: [{ index: VIRTIO_I2C_REQUESTQ }],
  });
  const q = () => dd.queues[VIRTIO_I2C_REQUESTQ] as DriverQueue<string>;
  const needsReset = () => (transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;
  let next = SCRATCH;
  /** Copies `bytes` into fresh scratch memory; @returns its segment. */
  const put = (bytes: Uint8Array | number[]): Segment => {
    const b = Uint8Array.from(bytes);
    const addr = next;
    next += (b.length + 15) & ~15;
    memory.write(addr, b);
    return { addr, len: b.length };
  };
  /** A fresh device-writable segment of `len` bytes, pre-filled with 0xee. */
  const room = (len: number): Segment => put(new Array(len).fill(0xee));
  const hdr = (addr: number, flags: number) => put([addr & 0xff, addr >> 8, 0, 0, flags & 0xff, (flags >> 8) & 0xff, (flags >> 16) & 0xff, flags >>> 24]);
  const add = (out: Segment[], inSegs: Segment[], token: string) => {
    if (!q().add(out, inSegs, token)) throw new Error('queue full');
  };
  const kick = () => dd.kick(VIRTIO_I2C_REQUESTQ);
  /** Used buffers so far: token and used length. */
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
  return { memory, device, transport, dd, needsReset, put, room, hdr, add, kick, used, bytes, ...tb };
}

function recording(q: DeviceQueue, log: RingOp[], mem: GuestMemory): DeviceQueue {
  const snapshot = (c: DescriptorChain): DescriptorChain => ({ id: c.id, readable: [...c.readable], writable: [...c.writable], readableLength: c.readableLength, writableLength: c.writableLength });
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
            log.push({ op: 'pop', chain: snapshot(c), request, written: 0 });
          }
          return c;
        };
      }
      if (prop === 'push') {
        return (c: DescriptorChain, written: number) => {
          log.push({ op: 'push', chain: snapshot(c), request: new Uint8Array(0), written });
          target.push(c, written);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Lets queued microtasks (interrupt delivery, promise continuations) run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0));
