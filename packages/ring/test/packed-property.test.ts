// Random interleavings of a packed-ring driver and device in one process, over all
// combinations of VIRTIO_F_INDIRECT_DESC / EVENT_IDX / IN_ORDER and queue sizes that are not
// powers of two: every buffer arrives intact and in ring order, comes back exactly once with
// the length the device wrote, and no notification the other side waits for is suppressed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DescriptorChain, Segment } from '../src/queue/types.js';
import { buf, packedPair } from './packed-fixtures.js';

type Op =
  | { kind: 'add'; out: number; in: number; indirect: boolean | undefined }
  | { kind: 'kick' }
  | { kind: 'pop' }
  | { kind: 'push'; pick: number; partial: boolean }
  | { kind: 'notify' }
  | { kind: 'reap' }
  | { kind: 'arm-device' }
  | { kind: 'disarm-device' }
  | { kind: 'arm-driver' }
  | { kind: 'disarm-driver' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), out: fc.nat(3), in: fc.nat(3), indirect: fc.option(fc.boolean(), { nil: undefined }) }),
  fc.constant({ kind: 'kick' as const }),
  fc.constant({ kind: 'pop' as const }),
  fc.record({ kind: fc.constant('push' as const), pick: fc.nat(), partial: fc.boolean() }),
  fc.constant({ kind: 'notify' as const }),
  fc.constant({ kind: 'reap' as const }),
  fc.constant({ kind: 'arm-device' as const }),
  fc.constant({ kind: 'disarm-device' as const }),
  fc.constant({ kind: 'arm-driver' as const }),
  fc.constant({ kind: 'disarm-driver' as const }),
);

interface Added {
  token: number;
  out: Segment[];
  in: Segment[];
}

describe('packed ring: random interleavings of driver and device', () => {
  it('delivers every buffer once, in order, with its length, and loses no notification', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 13 }),
        fc.record({ indirectDesc: fc.boolean(), eventIdx: fc.boolean(), inOrder: fc.boolean() }),
        fc.array(op, { maxLength: 300 }),
        (size, f, ops) => {
          const { driver, device } = packedPair(size, f);
          let token = 0;
          const pending: Added[] = []; // added, not yet kicked
          const exposed: Added[] = []; // kicked, not yet popped, in ring order
          const inFlight: { chain: DescriptorChain; added: Added }[] = [];
          const written = new Map<number, number>(); // token -> bytes the device wrote
          const reaped = new Set<number>();
          let deviceArmed = false; // enableNotifications() said nothing is available
          let driverArmed = false; // enableInterrupts() said nothing is used
          let pushedSinceArm = 0;

          const pop = () => {
            const c = device.pop();
            if (c === null) {
              expect(exposed).toHaveLength(0);
              return false;
            }
            const a = exposed.shift()!;
            expect(a).toBeDefined();
            expect(c.readable).toEqual(a.out);
            expect(c.writable).toEqual(a.in);
            inFlight.push({ chain: c, added: a });
            deviceArmed = false;
            return true;
          };
          const push = (pick: number, partial: boolean) => {
            if (inFlight.length === 0) return;
            const k = f.inOrder ? 0 : pick % inFlight.length;
            const [{ chain, added }] = inFlight.splice(k, 1);
            const len = partial ? Math.floor(chain.writableLength / 2) : chain.writableLength;
            device.push(chain, len);
            written.set(added.token, len);
            pushedSinceArm++;
          };
          const notify = () => {
            const n = device.needsNotification();
            if (driverArmed && pushedSinceArm > 0) expect(n).toBe(true);
            if (n) driverArmed = false;
            pushedSinceArm = 0;
          };
          const reap = () => {
            const u = driver.reap();
            if (u === null) return false;
            expect(reaped.has(u.token)).toBe(false);
            expect(u.len).toBe(written.get(u.token));
            if (f.inOrder) expect(u.token).toBe(reaped.size);
            reaped.add(u.token);
            return true;
          };

          for (const o of ops) {
            switch (o.kind) {
              case 'add': {
                const n = o.out + o.in;
                if (n === 0 || n > size || (o.indirect && !f.indirectDesc)) break;
                const out = Array.from({ length: o.out }, (_, k) => buf(3 * token + k, 16 + k));
                const inSegs = Array.from({ length: o.in }, (_, k) => buf(3 * token + k + 1000, 32 + k));
                const before = driver.numFree;
                if (driver.add(out, inSegs, token, { indirect: o.indirect })) {
                  pending.push({ token: token++, out, in: inSegs });
                } else {
                  expect(driver.numFree).toBe(before);
                }
                break;
              }
              case 'kick': {
                const any = pending.length > 0;
                const k = driver.kick();
                if (deviceArmed && any) expect(k).toBe(true);
                if (k) deviceArmed = false;
                exposed.push(...pending.splice(0));
                break;
              }
              case 'pop':
                pop();
                break;
              case 'push':
                push(o.pick, o.partial);
                break;
              case 'notify':
                notify();
                break;
              case 'reap':
                reap();
                break;
              case 'arm-device':
                deviceArmed = !device.enableNotifications();
                break;
              case 'disarm-device':
                device.disableNotifications();
                deviceArmed = false;
                break;
              case 'arm-driver':
                driverArmed = !driver.enableInterrupts();
                pushedSinceArm = 0;
                break;
              case 'disarm-driver':
                driver.disableInterrupts();
                driverArmed = false;
                break;
            }
          }
          // Drain: everything added comes back exactly once.
          driver.kick();
          exposed.push(...pending.splice(0));
          while (pop());
          while (inFlight.length > 0) push(0, false);
          device.needsNotification();
          while (reap());
          expect(reaped.size).toBe(token);
          expect(driver.numFree).toBe(size);
          expect(device.inFlight).toBe(0);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
