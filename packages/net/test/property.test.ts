// Random interleavings of frames from the backend, driver interrupts and transmits, over both
// ring layouts, with and without MRG_RXBUF and with small receive buffers: every frame the
// backend offered arrives once, intact and in order; every transmitted frame reaches the backend.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { featureMask } from '@virtio/core';
import { NET_DRIVER_FEATURES, VIRTIO_NET_F_MRG_RXBUF } from '../src/index.js';
import { ethFrame, rig, RING_MODES } from './harness.js';

const op = fc.oneof(
  fc.record({ kind: fc.constant('rx' as const), len: fc.integer({ min: 14, max: 1514 }) }),
  fc.record({ kind: fc.constant('tx' as const), len: fc.integer({ min: 14, max: 1514 }) }),
  fc.record({ kind: fc.constant('irq' as const) }),
);

describe.each(RING_MODES)('random interleavings over $name', ({ ring }) => {
  for (const mrg of [true, false]) {
    it(`${mrg ? 'with' : 'without'} MRG_RXBUF: no frame lost, duplicated or reordered`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), fc.constantFrom(4, 8, 16), (ops, queueSize) => {
          const r = rig({
            ring,
            queueSize,
            manualInterrupts: true,
            rxBufferSize: mrg ? 512 : undefined,
            driverFeatures: mrg ? NET_DRIVER_FEATURES : NET_DRIVER_FEATURES & ~featureMask(VIRTIO_NET_F_MRG_RXBUF),
          });
          const offered: Uint8Array[] = [];
          const sent: Uint8Array[] = [];
          let seed = 0;
          for (const o of ops) {
            if (o.kind === 'rx') {
              const f = ethFrame(o.len, ++seed);
              offered.push(f);
              r.callback.deliver(f);
            } else if (o.kind === 'tx') {
              const f = ethFrame(o.len, ++seed);
              while (!r.driver.send(f)) r.driver.poll();
              sent.push(f);
            } else {
              r.driver.handleInterrupt();
            }
          }
          for (let i = 0; i < 4 * offered.length + 4 && r.received.length < offered.length; i++) r.driver.poll();
          expect(r.received.map((x) => x.frame)).toEqual(offered);
          expect(r.sent.map((x) => x.frame)).toEqual(sent);
          expect(r.device.stats.rxErrors + r.device.stats.rxFiltered + r.device.stats.txErrors).toBe(0);
        }),
        { numRuns: 25 },
      );
    });
  }
});
