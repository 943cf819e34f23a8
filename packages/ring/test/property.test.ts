// Random interleavings of driver add / kick / device pop / push / notify decisions / driver
// reap, over every ring layout (through the factory) and every combination of
// {direct, indirect} x {EVENT_IDX on, off} x {IN_ORDER on, off}. Checks: every buffer comes
// back exactly once with the bytes the device wrote, and every notification decision in both
// directions matches the spec's rule for the layout.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ChainReader,
  ChainWriter,
  FlatGuestMemory,
  FreeListAllocator,
  createDeviceQueue,
  createDriverQueue,
  type DescriptorChain,
  type GuestMemory,
  type QueueConfig,
  type RingFeatures,
} from '../src/index.js';
import { specNeedEvent } from './fixture.js';
import { packedOracle } from './packed-oracle.js';

/**
 * A layout's notification rules, read from the raw ring memory (spec 2.7.7 / 2.7.10 for split).
 * `snapshot` is taken before a batch; the predicates say what the decision after it must be.
 */
interface LayoutOracle {
  readonly name: 'split' | 'packed';
  /** The driver must notify the device after publishing since `before`. */
  driverMustNotify(mem: GuestMemory, cfg: QueueConfig, before: number): boolean;
  /** The device must notify the driver after the pushes since `before`. */
  deviceMustNotify(mem: GuestMemory, cfg: QueueConfig, before: number): boolean;
  /** The published index the two predicates above compare: available idx (driver) or used idx (device). */
  availSnapshot(mem: GuestMemory, cfg: QueueConfig): number;
  usedSnapshot(mem: GuestMemory, cfg: QueueConfig): number;
  /** Called after every step, for a layout whose oracle follows the ring as it changes. */
  observe?(mem: GuestMemory, cfg: QueueConfig): void;
}

const split: LayoutOracle = {
  name: 'split',
  availSnapshot: (mem, cfg) => mem.readU16(cfg.driverArea + 2),
  usedSnapshot: (mem, cfg) => mem.readU16(cfg.deviceArea + 2),
  driverMustNotify(mem, cfg, before) {
    const now = mem.readU16(cfg.driverArea + 2);
    if (now === before) return false;
    if (cfg.features.eventIdx) return specNeedEvent(mem.readU16(cfg.deviceArea + 4 + 8 * cfg.size), now, before);
    return (mem.readU16(cfg.deviceArea) & 1) === 0;
  },
  deviceMustNotify(mem, cfg, before) {
    const now = mem.readU16(cfg.deviceArea + 2);
    if (now === before) return false;
    if (cfg.features.eventIdx) return specNeedEvent(mem.readU16(cfg.driverArea + 4 + 2 * cfg.size), now, before);
    return (mem.readU16(cfg.driverArea) & 1) === 0;
  },
};

/** Every layout the harness runs; the packed layout adds its oracle here. */
const LAYOUTS: LayoutOracle[] = [split, packedOracle];

const FEATURE_SETS: RingFeatures[] = [];
for (const indirectDesc of [false, true])
  for (const eventIdx of [false, true]) for (const inOrder of [false, true]) FEATURE_SETS.push({ indirectDesc, eventIdx, inOrder });

const name = (f: RingFeatures) => `${f.indirectDesc ? 'indirect' : 'direct'}, EVENT_IDX ${f.eventIdx ? 'on' : 'off'}, IN_ORDER ${f.inOrder ? 'on' : 'off'}`;

type Op =
  | { op: 'add'; out: number; in: number; len: number }
  | { op: 'kick' }
  | { op: 'pop' }
  | { op: 'push'; pick: number; frac: number }
  | { op: 'notify' }
  | { op: 'reap' }
  | { op: 'interrupts'; on: boolean }
  | { op: 'notifications'; on: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), out: fc.integer({ min: 1, max: 3 }), in: fc.integer({ min: 0, max: 3 }), len: fc.integer({ min: 0, max: 40 }) }),
  fc.constant({ op: 'kick' as const }),
  fc.constant({ op: 'pop' as const }),
  fc.record({ op: fc.constant('push' as const), pick: fc.nat(), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.constant({ op: 'notify' as const }),
  fc.constant({ op: 'reap' as const }),
  fc.record({ op: fc.constant('interrupts' as const), on: fc.boolean() }),
  fc.record({ op: fc.constant('notifications' as const), on: fc.boolean() }),
);

interface Buffer {
  token: number;
  out: { addr: number; len: number }[];
  inSegs: { addr: number; len: number }[];
  written?: number;
}

function run(layout: LayoutOracle, features: RingFeatures, size: number, ops: Op[]): void {
  const mem = new FlatGuestMemory(new SharedArrayBuffer(0x40000));
  const heap = new FreeListAllocator(0x100, 0x40000 - 0x100);
  const drv = createDriverQueue<number>(mem, heap, { size, packed: layout.name === 'packed', features });
  const dev = createDeviceQueue(mem, drv.config);
  const cfg = drv.config;
  const buffers = new Map<number, Buffer>();
  const returned = new Set<number>();
  const popped: { chain: DescriptorChain; token: number }[] = [];
  let nextToken = 1;
  let added = 0;
  let availMark = layout.availSnapshot(mem, cfg);
  let usedMark = layout.usedSnapshot(mem, cfg);
  // Liveness: after a side asked for notifications and the re-check found nothing, the next
  // publication by the other side must notify it.
  let driverArmed = false;
  let driverPushedSinceArm = false;
  let deviceArmed = false;

  const pattern = (token: number, k: number) => (token * 31 + k) & 0xff;

  const step = (o: Op): void => {
    switch (o.op) {
      case 'add': {
        const token = nextToken++;
        // The first readable segment starts with the token, so it has at least 4 bytes.
        const mk = (n: number, min: number) =>
          Array.from({ length: n }, (_, k) => {
            const len = Math.max(o.len + k, k === 0 ? min : 0);
            return { addr: heap.alloc(Math.max(len, 1), 1), len };
          });
        const nOut = Math.min(o.out, size);
        const b: Buffer = { token, out: mk(nOut, 4), inSegs: mk(Math.min(o.in, size - nOut), 0) };
        mem.writeU32(b.out[0].addr, token);
        for (const s of b.out.slice(1)) for (let k = 0; k < s.len; k++) mem.writeU8(s.addr + k, pattern(token, k));
        if (drv.add(b.out, b.inSegs, token)) {
          buffers.set(token, b);
          added++;
        } else for (const s of [...b.out, ...b.inSegs]) heap.free(s.addr);
        break;
      }
      case 'kick': {
        const got = drv.kick();
        const now = layout.availSnapshot(mem, cfg);
        expect(got).toBe(layout.driverMustNotify(mem, cfg, availMark));
        if (deviceArmed && now !== availMark) {
          expect(got).toBe(true);
          deviceArmed = false;
        }
        availMark = now;
        break;
      }
      case 'pop': {
        const c = dev.pop();
        if (c === null) break;
        const r = new ChainReader(mem, c.readable);
        const token = r.readU32();
        const b = buffers.get(token)!;
        expect(b).toBeDefined();
        expect(c.readableLength).toBe(b.out.reduce((a, s) => a + s.len, 0));
        expect(c.writableLength).toBe(b.inSegs.reduce((a, s) => a + s.len, 0));
        r.skip(b.out[0].len - 4);
        for (const s of b.out.slice(1)) for (let k = 0; k < s.len; k++) expect(r.readU8()).toBe(pattern(token, k));
        popped.push({ chain: c, token });
        break;
      }
      case 'push': {
        if (popped.length === 0) break;
        const at = features.inOrder ? 0 : o.pick % popped.length;
        const [{ chain, token }] = popped.splice(at, 1);
        const n = Math.floor(o.frac * chain.writableLength);
        const w = new ChainWriter(mem, chain.writable);
        for (let k = 0; k < n; k++) w.writeU8(pattern(token, k + 7));
        buffers.get(token)!.written = w.written;
        dev.push(chain, w.written);
        if (driverArmed) driverPushedSinceArm = true;
        break;
      }
      case 'notify': {
        const got = dev.needsNotification();
        expect(got).toBe(layout.deviceMustNotify(mem, cfg, usedMark));
        if (driverArmed && driverPushedSinceArm) {
          expect(got).toBe(true);
          driverArmed = false;
          driverPushedSinceArm = false;
        }
        usedMark = layout.usedSnapshot(mem, cfg);
        break;
      }
      case 'reap': {
        const u = drv.reap();
        if (u === null) break;
        const b = buffers.get(u.token)!;
        expect(returned.has(u.token)).toBe(false);
        expect(b.written).toBeDefined();
        expect(u.len).toBe(b.written);
        const data = new ChainReader(mem, b.inSegs).readBytes(u.len);
        data.forEach((v, k) => expect(v).toBe(pattern(u.token, k + 7)));
        returned.add(u.token);
        buffers.delete(u.token);
        for (const s of [...b.out, ...b.inSegs]) heap.free(s.addr);
        break;
      }
      case 'interrupts':
        if (o.on) {
          const pending = drv.enableInterrupts();
          if (!pending && !driverArmed) {
            // Arm only when no used buffer awaits notification from an earlier batch.
            driverArmed = layout.usedSnapshot(mem, cfg) === usedMark;
            driverPushedSinceArm = false;
          }
        } else {
          drv.disableInterrupts();
          driverArmed = false;
        }
        break;
      case 'notifications':
        if (o.on) {
          if (!dev.enableNotifications()) deviceArmed = layout.availSnapshot(mem, cfg) === availMark;
        } else {
          dev.disableNotifications();
          deviceArmed = false;
        }
        break;
    }
    layout.observe?.(mem, cfg);
  };

  for (const o of ops) step(o);
  // Drain: everything added comes back exactly once.
  step({ op: 'kick' });
  for (let guard = 0; guard < 4 * size + 8 && (buffers.size > 0 || popped.length > 0); guard++) {
    for (let c = 0; c < size; c++) step({ op: 'pop' });
    while (popped.length > 0) step({ op: 'push', pick: 0, frac: 1 });
    step({ op: 'notify' });
    for (let c = 0; c < size; c++) step({ op: 'reap' });
  }
  expect(buffers.size).toBe(0);
  expect(dev.inFlight).toBe(0);
  expect(drv.numFree).toBe(size);
  expect(returned.size).toBe(added);
}

describe.each(LAYOUTS)('$name ring, random interleavings', (layout) => {
  it.each(FEATURE_SETS.map((f) => [name(f), f] as const))(
    '[split.dev.5] [split.dev.6] [split.drv.16] [split.drv.17] [basic.dev.21] %s: each buffer returns once with the device’s bytes; notify decisions follow the spec',
    (_n, features) => {
      fc.assert(
        fc.property(fc.constantFrom(1, 2, 4, 8), fc.array(opArb, { maxLength: 120 }), (size, ops) => run(layout, features, size, ops)),
        { numRuns: 150 },
      );
    },
  );
});
