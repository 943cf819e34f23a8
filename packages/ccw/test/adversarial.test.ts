// A hostile guest: random channel programs and data over random memory, against a device in
// every revision state. The device must end each program with a typed result and never throw
// (an access outside guest memory would throw GuestMemoryError out of startSubchannel).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EchoDevice } from '@virtio/core/testing';
import { FlatGuestMemory } from '@virtio/ring';
import { CCW_FLAG_CC, CcwTransport, ChannelSubsystem, writeCcw } from '../src/index.js';

const SIZE = 0x4000;
const COMMANDS = [0x03, 0x04, 0x08, 0xe4, 0x13, 0x33, 0x43, 0x53, 0x73, 0x12, 0x11, 0x22, 0x21, 0x31, 0x32, 0x83, 0x72];
const STATUSES = new Set(['ok', 'unit-check', 'incorrect-length', 'program-check']);

const ccwArb = fc.record({
  cmd: fc.oneof(fc.constantFrom(...COMMANDS), fc.integer({ min: 0, max: 255 })),
  flags: fc.oneof(fc.constantFrom(0, CCW_FLAG_CC, 0x20, 0x60), fc.integer({ min: 0, max: 255 })),
  count: fc.oneof(fc.constantFrom(0, 1, 4, 5, 8, 16, 25, 32, 256), fc.integer({ min: 0, max: 0xffff })),
  cda: fc.oneof(fc.integer({ min: 0, max: SIZE - 1 }), fc.integer({ min: 0, max: 0x7fff_ffff }), fc.constant(SIZE - 3)),
});

describe('adversarial channel programs', () => {
  it('random programs and data never throw and always end in a channel status', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: SIZE, maxLength: SIZE }),
        fc.array(fc.tuple(fc.array(ccwArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: SIZE / 8 - 8 })), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.boolean(),
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 0xffff_ffff })), { maxLength: 4 }),
        (bytes, programs, transitional, notifies) => {
          const memory = new FlatGuestMemory(bytes);
          const device = new EchoDevice({ queues: 2, queueMaxSize: 64 });
          const transport = new CcwTransport(device, {
            memory,
            transitional,
            interrupts: { ioInterrupt: () => transport.testSubchannel(), adapterInterrupt: () => {} },
          });
          const cs = new ChannelSubsystem();
          cs.attach(0x0001_0000, transport);
          transport.enableSubchannel();
          for (const [ccws, slot] of programs) {
            const addr = slot * 8;
            ccws.forEach((c, i) => writeCcw(memory, addr + i * 8, c));
            const result = transport.startSubchannel(addr);
            expect(STATUSES.has(result.status)).toBe(true);
            const listed = transport.execute(ccws);
            expect(STATUSES.has(listed.status)).toBe(true);
            for (const [gpr2, data] of notifies) expect(typeof cs.notify(gpr2, data, 0n)).toBe('bigint');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
