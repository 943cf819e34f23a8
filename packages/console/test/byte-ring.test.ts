import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteRing } from '../src/byte-ring.js';

describe('ByteRing', () => {
  it('behaves like a bounded FIFO of bytes under any interleaving of pushes and takes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 80 }).map((d) => ({ push: d })), fc.integer({ min: 0, max: 80 }).map((n) => ({ take: n })))),
        (capacity, ops) => {
          const ring = new ByteRing(capacity);
          const model: number[] = [];
          for (const op of ops) {
            if ('push' in op) {
              const accepted = ring.push(op.push);
              const room = capacity - model.length;
              expect(accepted).toBe(Math.min(room, op.push.length));
              model.push(...op.push.subarray(0, accepted));
            } else {
              const dest = new Uint8Array(op.take);
              const n = ring.take(dest);
              const want = model.splice(0, op.take);
              expect(n).toBe(want.length);
              expect([...dest.subarray(0, n)]).toEqual(want);
            }
            expect(ring.length).toBe(model.length);
          }
        },
      ),
    );
  });
});
