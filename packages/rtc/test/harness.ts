// Test set-up: our RtcDriver against our RtcDevice over core's LoopbackTransport, with real
// rings in one flat guest memory, interrupts delivered asynchronously (as a guest sees them),
// and a FakeTimeSource as clock and timer (no test waits for real time).
import { featureMask, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { createDeviceQueue, FlatGuestMemory, FreeListAllocator, type DescriptorChain, type DeviceQueue, type DriverQueue, type GuestMemory, type Segment } from '@virtio/ring';
import { FakeTimeSource, RtcDevice, RtcDriver, type RtcDeviceOptions, type RtcDriverOptions } from '../src/index.js';

export const MEM_SIZE = 0x100000;
export const NS = 1_000_000_000n;
/** 2026-11-22T00:00:00Z as POSIX seconds, a TAI - UTC of 37 s. */
export const UTC_2026 = 1795305600n;
export const TAI_2026 = (UTC_2026 + 37n) * NS;

/** The ring layouts and ring features every round-trip test runs over. */
export const VARIANTS = [
  { name: 'split', features: 0n },
  { name: 'split+indirect+event_idx', features: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', features: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', features: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

/** A popped chain, copied at pop time: its segments and its device-readable bytes. */
export interface RecordedChain {
  readonly readable: readonly Segment[];
  readonly writable: readonly Segment[];
  readonly readableLength: number;
  readonly writableLength: number;
  readonly bytes: Uint8Array;
}

export interface Rig {
  readonly memory: FlatGuestMemory;
  readonly clock: FakeTimeSource;
  readonly device: RtcDevice;
  readonly transport: LoopbackTransport;
  readonly driver: RtcDriver;
  readonly allocator: FreeListAllocator;
  /** Every chain the device popped, on either queue, as it was when popped. */
  readonly popped: RecordedChain[];
}

/** Device and driver wired up; the driver is initialized but not started. */
export function rig(devOpts: Partial<RtcDeviceOptions> = {}, drvOpts: Partial<RtcDriverOptions> = {}, clock = new FakeTimeSource({ taiNs: TAI_2026, monotonicNs: 5n * NS })): Rig {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new RtcDevice({ source: clock, timer: clock, ...devOpts });
  const popped: RecordedChain[] = [];
  const transport = new LoopbackTransport(device, {
    memory,
    transport: 'mmio',
    createQueue: (mem, config) => recording(createDeviceQueue(mem, config), mem, popped),
  });
  const allocator = new FreeListAllocator(0x1000, MEM_SIZE / 2 - 0x1000);
  const driver = RtcDriver.initialize(transport, { memory, allocator, ringFeatures: VARIANTS[0].features, ...drvOpts });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { memory, clock, device, transport, driver, allocator, popped };
}

/** A started rig: clocks discovered, alarms cleared, alarmq populated. */
export async function started(devOpts: Partial<RtcDeviceOptions> = {}, drvOpts: Partial<RtcDriverOptions> = {}, clock?: FakeTimeSource): Promise<Rig> {
  const r = rig(devOpts, drvOpts, clock);
  const p = r.driver.start();
  await settle();
  await p;
  return r;
}

function recording(q: DeviceQueue, mem: GuestMemory, popped: RecordedChain[]): DeviceQueue {
  const copy = (segs: readonly Segment[]) => segs.map((s) => ({ addr: s.addr, len: s.len }));
  return new Proxy(q, {
    get(target, prop) {
      if (prop === 'pop') {
        return () => {
          const c: DescriptorChain | null = target.pop();
          if (c) {
            const bytes = new Uint8Array(c.readableLength);
            let at = 0;
            for (const s of c.readable) {
              mem.read(s.addr, bytes.subarray(at, at + s.len));
              at += s.len;
            }
            popped.push({ readable: copy(c.readable), writable: copy(c.writable), readableLength: c.readableLength, writableLength: c.writableLength, bytes });
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

/** Awaits a driver promise after letting the device answer. */
export async function done<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {}); // handled by the caller, after the device answered
  await settle();
  return p;
}

export const needsReset = (r: Rig) => (r.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;

/** Guest memory for hand-made requests, above the allocator's range. */
export const RAW = MEM_SIZE / 2;

/**
 * A hand-made request, as a hostile or careless driver would place it: `request` bytes in a
 * device-readable buffer (split in pieces when `split` is given), a device-writable buffer of
 * `writable` bytes pre-filled with 0xAA. Resolves with the used length and the writable bytes.
 */
export function raw(r: Rig, request: Uint8Array, writable: number, split?: number): Promise<{ len: number; resp: Uint8Array; status: number }> {
  return rawRequest(r, request, writable, split);
}

async function rawRequest(r: Rig, request: Uint8Array, writable: number, split?: number): Promise<{ len: number; resp: Uint8Array; status: number }> {
  const q = r.driver.device.queues[0] as DriverQueue<unknown>;
  const reqAt = RAW;
  const respAt = RAW + 0x1000;
  r.memory.write(reqAt, request);
  r.memory.write(respAt, new Uint8Array(Math.max(writable, 64)).fill(0xaa));
  const out: Segment[] = [];
  if (request.length > 0) {
    if (split !== undefined && split < request.length) out.push({ addr: reqAt, len: split }, { addr: reqAt + split, len: request.length - split });
    else out.push({ addr: reqAt, len: request.length });
  }
  const inSegs: Segment[] = writable > 0 ? [{ addr: respAt, len: writable }] : [];
  let used: { len: number } | undefined;
  const token = { raw: true };
  await settle();
  // Our driver would take (and drop) a used buffer it did not add: reap this one by hand.
  const wired = r.transport.onInterrupt;
  r.transport.onInterrupt = undefined;
  try {
    if (!q.add(out, inSegs, token)) throw new Error('requestq full');
    r.driver.device.kick(0);
    for (;;) {
      const u = q.reap();
      if (u === null) break;
      if (u.token === token) used = u;
    }
  } finally {
    r.transport.onInterrupt = wired;
  }
  if (!used) throw new Error('request not used');
  const resp = new Uint8Array(Math.max(writable, 64));
  r.memory.read(respAt, resp);
  return { len: used.len, resp, status: resp[0] };
}

/** Builds a request: little-endian fields at byte offsets. */
export function req(size: number, fields: [offset: number, width: 1 | 2 | 8, value: number | bigint][]): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  for (const [at, w, val] of fields) {
    if (w === 1) v.setUint8(at, Number(val));
    else if (w === 2) v.setUint16(at, Number(val), true);
    else v.setBigUint64(at, BigInt(val), true);
  }
  return b;
}

export const u64At = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);
export const u16At = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);
