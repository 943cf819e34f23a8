// Malformed chains from a hostile driver: the device answers with the spec's response code
// where one exists, else sets DEVICE_NEEDS_RESET; it never throws, hangs or writes outside
// the device-writable buffers.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { featureMask, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET } from '@virtio/core';
import {
  SCSI_DRIVER_FEATURES,
  VIRTIO_SCSI_F_INOUT,
  VIRTIO_SCSI_F_T10_PI,
  VIRTIO_SCSI_S_BAD_TARGET,
  VIRTIO_SCSI_S_FAILURE,
  VIRTIO_SCSI_S_OK,
  VIRTIO_SCSI_T_TRANSPORT_RESET,
} from '../src/index.js';
import { GatedUnit, settle } from './harness.js';
import { DATA, rawRig, REQ, RESP } from './raw.js';

const TUR = new Uint8Array(6);
const READ10_1 = Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
const WRITE10_1 = Uint8Array.of(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0);

describe('adversarial request chains', () => {
  it('[scsi.dev.6] FAILURE at once for dataout and datain in one request without VIRTIO_SCSI_F_INOUT', async () => {
    const t = rawRig({ units: [{ target: 0, lun: 0, unit: new GatedUnit() }], wanted: SCSI_DRIVER_FEATURES & ~featureMask(VIRTIO_SCSI_F_INOUT) });
    const used = await t.submit(2, [t.cmdHeader(WRITE10_1), { addr: DATA, len: 512 }], [t.resp(), { addr: DATA + 0x1000, len: 512 }]);
    expect(used).not.toBeNull();
    expect(t.response().response).toBe(VIRTIO_SCSI_S_FAILURE);
    expect(t.device.inFlight).toBe(0);
  });

  it('answers FAILURE to a header shorter than lun..cdb[cdb_size] and to a response area shorter than sense_size', async () => {
    const t = rawRig();
    await t.submit(2, [{ addr: REQ, len: 40 }], [t.resp()]);
    expect(t.response().response).toBe(VIRTIO_SCSI_S_FAILURE);
    await t.submit(2, [t.cmdHeader(TUR)], [t.resp(12 + 50)]);
    expect(t.response().response).toBe(VIRTIO_SCSI_S_FAILURE);
    expect(t.state.status & NEEDS_RESET).toBe(0);
  });

  it('answers BAD_TARGET to a lun in an unsupported format', async () => {
    const t = rawRig();
    await t.submit(2, [t.cmdHeader(TUR, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0))], [t.resp()]);
    expect(t.response().response).toBe(VIRTIO_SCSI_S_BAD_TARGET);
    await t.submit(2, [t.cmdHeader(TUR, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 1))], [t.resp()]);
    expect(t.response().response).toBe(VIRTIO_SCSI_S_BAD_TARGET);
  });

  it('sets DEVICE_NEEDS_RESET for a request with no room for the response fields, returning its buffers', async () => {
    const t = rawRig();
    const used = await t.submit(2, [t.cmdHeader(TUR)], [t.resp(8)]);
    expect(used?.len).toBe(0);
    expect(t.state.status & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(t.memory.readU8(RESP)).toBe(0xff);
  });

  it('reads a header split over descriptors and answers into a response split over descriptors', async () => {
    const t = rawRig();
    t.cmdHeader(READ10_1);
    t.resp();
    const used = await t.submit(2, [{ addr: REQ, len: 5 }, { addr: REQ + 5, len: 46 }], [{ addr: RESP, len: 3 }, { addr: RESP + 3, len: 105 }, { addr: DATA, len: 512 }]);
    expect(t.response()).toMatchObject({ response: VIRTIO_SCSI_S_OK, status: 2, residual: 512 }); // unit attention first
    expect(used?.len).toBeGreaterThanOrEqual(12);
    await t.submit(2, [t.cmdHeader(READ10_1)], [t.resp(), { addr: DATA, len: 512 }]);
    expect(t.response()).toMatchObject({ response: VIRTIO_SCSI_S_OK, status: 0, residual: 0, senseLen: 0 });
  });

  it('T10_PI framing: pi_bytesout beyond the readable part is FAILURE; the disk refuses protection information', async () => {
    const t = rawRig({ t10pi: true, wanted: SCSI_DRIVER_FEATURES | featureMask(VIRTIO_SCSI_F_T10_PI) });
    const h = t.cmdHeader(TUR, undefined, REQ, 8);
    t.memory.writeU32(REQ + 51, 1000);
    await t.submit(2, [h], [t.resp()]);
    expect(t.response().response).toBe(VIRTIO_SCSI_S_FAILURE);
    await t.submit(2, [t.cmdHeader(TUR, undefined, REQ, 8)], [t.resp()]); // consume the unit attention
    const h2 = t.cmdHeader(READ10_1, undefined, REQ, 8);
    t.memory.writeU32(REQ + 55, 8);
    await t.submit(2, [h2], [t.resp(), { addr: DATA, len: 520 }]);
    expect(t.response()).toMatchObject({ response: VIRTIO_SCSI_S_OK, status: 2 });
  });

  it('random chains never throw, hang, or touch readable buffers; each is used or the device needs reset', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(80), { minLength: 0, maxLength: 3 }),
        fc.array(fc.nat(200), { minLength: 0, maxLength: 3 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.constantFrom(0, 2),
        async (outLens, inLens, bytes, qi) => {
          const t = rawRig();
          t.memory.write(REQ, bytes);
          const before = t.memory.view(REQ, 0x800).slice();
          let a = REQ;
          const out = outLens.filter((l) => l > 0).map((len) => ({ addr: (a += 0x100) - 0x100, len }));
          let b = RESP;
          const inSegs = inLens.filter((l) => l > 0).map((len) => ({ addr: (b += 0x100) - 0x100, len }));
          if (out.length + inSegs.length === 0) return;
          const used = await t.submit(qi, out, inSegs);
          expect(used !== null || (t.state.status & NEEDS_RESET) !== 0).toBe(true);
          expect(t.memory.view(REQ, 0x800)).toEqual(before);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('adversarial control and event chains', () => {
  it('controlq: short or unknown requests are FAILURE; a request with nothing writable needs reset', async () => {
    const t = rawRig();
    t.memory.writeU32(REQ, 0);
    await t.submit(0, [{ addr: REQ, len: 10 }], [t.resp(1)]);
    expect(t.memory.readU8(RESP)).toBe(VIRTIO_SCSI_S_FAILURE);
    t.memory.writeU32(REQ, 9);
    await t.submit(0, [{ addr: REQ, len: 24 }], [t.resp(1)]);
    expect(t.memory.readU8(RESP)).toBe(VIRTIO_SCSI_S_FAILURE);
    t.memory.writeU32(REQ, 1); // AN query with a 1-byte response area
    await t.submit(0, [{ addr: REQ, len: 16 }], [t.resp(1)]);
    expect(t.memory.readU8(RESP)).toBe(VIRTIO_SCSI_S_FAILURE);
    expect(t.state.status & NEEDS_RESET).toBe(0);
    const used = await t.submit(0, [{ addr: REQ, len: 24 }], []);
    expect(used?.len).toBe(0);
    expect(t.state.status & NEEDS_RESET).toBe(NEEDS_RESET);
  });

  it('eventq: a buffer shorter than struct virtio_scsi_event is used empty; the event goes into the next one', async () => {
    const t = rawRig();
    t.queues[1].add([], [{ addr: DATA, len: 8 }], 100);
    t.queues[1].add([], [{ addr: DATA + 0x100, len: 16 }], 101);
    t.dev.kick(1);
    t.device.plug({ target: 1, lun: 0 }, new GatedUnit());
    await settle();
    expect(t.queues[1].reap()).toMatchObject({ token: 100, len: 0 });
    expect(t.queues[1].reap()).toMatchObject({ token: 101, len: 16 });
    expect(t.memory.readU32(DATA + 0x100)).toBe(VIRTIO_SCSI_T_TRANSPORT_RESET);
    expect(t.memory.readU8(DATA + 0x100 + 5)).toBe(1);
  });
});
