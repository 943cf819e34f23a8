// Random reads and writes through the driver, device and disk agree with a plain byte-array
// model of the disk, under every ring layout and with commands interleaved on two queues.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SAM_STAT_GOOD, VIRTIO_SCSI_S_OK } from '../src/index.js';
import { cdb, pattern, RING_MODES, rig } from './harness.js';

const BLOCKS = 64;
const op = fc.record({
  write: fc.boolean(),
  lba: fc.integer({ min: 0, max: BLOCKS - 1 }),
  count: fc.integer({ min: 1, max: 8 }),
  sixteen: fc.boolean(),
  queue: fc.integer({ min: 0, max: 1 }),
  seed: fc.nat(),
});

describe('disk model', () => {
  for (const mode of RING_MODES) {
    it(`matches the model (${mode.name})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          const { driver, memory } = rig({ ring: mode.ring, diskSize: BLOCKS * 512, numQueues: 2, queues: 2 });
          await driver.command({ target: 0, lun: 0, cdb: cdb.testUnitReady() });
          const model = new Uint8Array(BLOCKS * 512);
          // Each batch runs concurrently; writes in a batch never overlap anything else in it.
          const busy = new Uint8Array(BLOCKS);
          const batch: Promise<void>[] = [];
          let buf = 0x10000;
          for (const o of ops) {
            const count = Math.min(o.count, BLOCKS - o.lba);
            if (busy.subarray(o.lba, o.lba + count).some((b) => b !== 0)) continue;
            if (o.write) busy.fill(2, o.lba, o.lba + count);
            const len = count * 512;
            const addr = buf;
            buf += len;
            const c = o.sixteen ? cdb.rw16(o.write, o.lba, count) : cdb.rw10(o.write, o.lba, count);
            if (o.write) {
              const data = pattern(len, o.seed);
              memory.write(addr, data);
              model.set(data, o.lba * 512);
              batch.push(
                driver.command({ target: 0, lun: 0, cdb: c, dataOut: [{ addr, len }], queue: o.queue }).then((r) => {
                  expect([r.response, r.status, r.residual]).toEqual([VIRTIO_SCSI_S_OK, SAM_STAT_GOOD, 0]);
                }),
              );
            } else {
              busy.fill(1, o.lba, o.lba + count);
              const expected = model.slice(o.lba * 512, o.lba * 512 + len);
              batch.push(
                driver.command({ target: 0, lun: 0, cdb: c, dataIn: [{ addr, len }], queue: o.queue }).then((r) => {
                  expect([r.response, r.status, r.residual]).toEqual([VIRTIO_SCSI_S_OK, SAM_STAT_GOOD, 0]);
                  expect(memory.view(addr, len)).toEqual(expected);
                }),
              );
            }
          }
          await Promise.all(batch);
        }),
        { numRuns: 25 },
      );
    });
  }
});
