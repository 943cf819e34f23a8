import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FlatGuestMemory } from '@virtio/ring';
import {
  VirtioTransportState,
  featureMask,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_SUSPEND,
  VIRTIO_F_NOTIFICATION_DATA,
} from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';

const MEM = 0x8000;
const OFFERED = featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET, VIRTIO_F_SUSPEND, VIRTIO_F_NOTIFICATION_DATA);

const u32 = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 6, 8, 11, 15, 16, 31, 64, 0x80, 0xff, 0x8000, 0xffff, 0xffffffff), fc.nat());
const addr = fc.oneof(fc.integer({ min: 0, max: MEM }), fc.constantFrom(MEM - 2, MEM - 16, 2 ** 32, 2 ** 53, 2 ** 64 - 1));
const area = fc.constantFrom('desc' as const, 'driver' as const, 'device' as const);
const queue = fc.integer({ min: -1, max: 3 });

/** Everything a driver (or the device's backend) can do, in any order; making buffers available and notifying weigh more. */
const op = fc.oneof(
  { weight: 1, arbitrary: fc.record({ k: fc.constant('status' as const), v: fc.oneof(fc.constantFrom(0, 1, 3, 11, 15, 31, 27, 0x80), u32) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('features' as const), sel: fc.integer({ min: -1, max: 5 }), v: u32 }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('size' as const), q: queue, v: u32 }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('addr' as const), q: queue, area, v: addr }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('half' as const), q: queue, area, high: fc.boolean(), v: u32 }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('enable' as const), q: queue }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('disable' as const), q: queue }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('qreset' as const), q: queue }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('notify' as const), q: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: -1, max: 0x10000 })), v: u32 }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('config' as const), off: fc.integer({ min: -2, max: 12 }), w: fc.constantFrom(1, 2, 3, 4, 8), v: u32, write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('poke' as const), at: fc.integer({ min: 0, max: MEM - 4 }), v: u32 }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('complete' as const), n: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('host' as const) }) },
  { weight: 6, arbitrary: fc.record({
    k: fc.constant('offer' as const),
    q: fc.integer({ min: 0, max: 1 }),
    d: fc.integer({ min: 0, max: 8 }),
    len: fc.integer({ min: 0, max: 64 }),
    flags: fc.constantFrom(0, 0, 2, 2, 2, 1, 3, 4),
    next: fc.integer({ min: 0, max: 9 }),
  }) },
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** ACKNOWLEDGE, DRIVER, VERSION_1 + EVENT_IDX, FEATURES_OK, both queues at distinct addresses, DRIVER_OK. */
const LIVE_PREFIX: Op[] = [
  { k: 'status', v: 1 },
  { k: 'status', v: 3 },
  { k: 'features', sel: 0, v: 1 << VIRTIO_F_EVENT_IDX },
  { k: 'features', sel: 1, v: 1 },
  { k: 'status', v: 11 },
  ...[0, 1].flatMap((q): Op[] => [
    { k: 'size', q, v: 8 },
    { k: 'addr', q, area: 'desc', v: 0x1000 + q * 0x1000 },
    { k: 'addr', q, area: 'driver', v: 0x1800 + q * 0x1000 },
    { k: 'addr', q, area: 'device', v: 0x1c00 + q * 0x1000 },
    { k: 'enable', q },
  ]),
  { k: 'status', v: 15 },
];

/**
 * Writes split descriptor `d` of queue `q` (at the LIVE_PREFIX addresses) with the given flags
 * and next, and makes it available: well-formed chains and broken ones alike.
 */
function offer(memory: FlatGuestMemory, o: { q: number; d: number; len: number; flags: number; next: number }): void {
  const desc = 0x1000 + o.q * 0x1000;
  const avail = desc + 0x800;
  if (o.d < 8) {
    memory.writeU64(desc + 16 * o.d, 0x4000 + 0x100 * o.d);
    memory.writeU32(desc + 16 * o.d + 8, o.len);
    memory.writeU16(desc + 16 * o.d + 12, o.flags);
    memory.writeU16(desc + 16 * o.d + 14, o.next);
  }
  const idx = memory.readU16(avail + 2);
  memory.writeU16(avail + 4 + 2 * (idx % 8), o.d);
  memory.writeU16(avail + 2, (idx + 1) & 0xffff);
}

describe('an adversarial driver against the state machine and real rings', () => {
  it('never throws out of the transport, whatever the driver writes and whatever is in guest memory', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120, size: 'max' }), fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.boolean(), fc.boolean(), fc.boolean(), (tail, noise, hold, initFirst, noisy) => {
        // Half the runs start from a proper initialization, so the random tail hits a live device.
        const ops = initFirst ? [...LIVE_PREFIX, ...tail] : tail;
        const memory = new FlatGuestMemory(new Uint8Array(MEM));
        // Random bytes everywhere (rings included), or zeroed memory the random pokes slowly corrupt.
        if (noisy) for (let a = 0; a < MEM; a += 256) memory.write(a, noise);
        const device = new EchoDevice({ queues: 2, queueMaxSize: 16, features: OFFERED, hold });
        let usedInterrupts = 0;
        const state = new VirtioTransportState(device, {
          memory,
          transport: 'mmio',
          interrupt: { usedBuffer: () => usedInterrupts++, configChange() {} },
        });
        for (const o of ops) {
          switch (o.k) {
            case 'status': state.writeStatus(o.v); break;
            case 'features': state.writeDriverFeatureWord(o.sel, o.v); break;
            case 'size': state.queue(o.q)?.setSize(o.v); break;
            case 'addr': state.queue(o.q)?.setAddress(o.area, o.v); break;
            case 'half': state.queue(o.q)?.setAddressHalf(o.area, o.high ? 1 : 0, o.v); break;
            case 'enable': state.enableQueue(o.q); break;
            case 'disable': state.disableQueue(o.q); break;
            case 'qreset': state.resetQueue(o.q); break;
            case 'notify': state.notify(o.q, o.v); break;
            case 'config':
              if (o.write) state.writeConfig(o.off, o.w as 1, o.v);
              else expect(Number.isInteger(state.readConfig(o.off, o.w as 1))).toBe(true);
              break;
            case 'poke': memory.writeU32(o.at, o.v); break;
            case 'complete': device.complete(o.n); break;
            case 'host': device.host!.configChanged(); break;
            case 'offer': offer(memory, o); break;
          }
          const s = state.status;
          expect(s & ~0xff).toBe(0);
          // [basic.dev.1] the device is only ever activated by DRIVER_OK (it stays set, or reads 0 while suspended).
          if (device.ctx) expect((s & DRIVER_OK) !== 0 || state.suspended).toBe(true);
          // Without a live activation nothing can interrupt the driver for a used buffer.
          if (!device.ctx) expect(usedInterrupts).toBe(0);
          usedInterrupts = 0;
        }
      }),
      { numRuns: 400 },
    );
  });
});
