// The built-in SCSI disk, driven end to end by our driver through our device.
import { describe, expect, it } from 'vitest';
import {
  parseSense,
  SAM_STAT_CHECK_CONDITION,
  SAM_STAT_GOOD,
  SENSE_DATA_PROTECT,
  SENSE_ILLEGAL_REQUEST,
  SENSE_UNIT_ATTENTION,
  VIRTIO_SCSI_S_OK,
  VIRTIO_SCSI_S_OVERRUN,
} from '../src/index.js';
import { cdb, DATA_BASE, pattern, RING_MODES, rig, seg } from './harness.js';

const LUN0 = { target: 0, lun: 0 };

/** A rig whose initial reset unit attention was consumed. */
async function ready(opts: Parameters<typeof rig>[0] = {}) {
  const r = rig(opts);
  const first = await r.driver.command({ ...LUN0, cdb: cdb.testUnitReady() });
  expect(parseSense(first.sense)).toEqual({ key: SENSE_UNIT_ATTENTION, asc: 0x29, ascq: 0 });
  return r;
}

describe('ScsiDisk through ScsiDevice', () => {
  for (const mode of RING_MODES) {
    for (const transport of ['loopback', 'mmio'] as const) {
      it(`writes and reads back with READ/WRITE(10) and (16) (${mode.name}, ${transport})`, async () => {
        const { driver, memory, backend } = await ready({ ring: mode.ring, transport });
        const data = pattern(4096, 7);
        memory.write(DATA_BASE, data);
        const w = await driver.command({ ...LUN0, cdb: cdb.rw10(true, 3, 8), dataOut: seg(DATA_BASE, 4096) });
        expect([w.response, w.status, w.residual]).toEqual([VIRTIO_SCSI_S_OK, SAM_STAT_GOOD, 0]);
        expect(backend.data.subarray(3 * 512, 3 * 512 + 4096)).toEqual(data);
        const r = await driver.command({ ...LUN0, cdb: cdb.rw16(false, 3, 8), dataIn: [{ addr: 0x20000, len: 1000 }, { addr: 0x30000, len: 3096 }] });
        expect([r.response, r.status, r.residual]).toEqual([VIRTIO_SCSI_S_OK, SAM_STAT_GOOD, 0]);
        const back = new Uint8Array(4096);
        memory.read(0x20000, back.subarray(0, 1000));
        memory.read(0x30000, back.subarray(1000));
        expect(back).toEqual(data);
        // Many concurrent commands complete, each with its own data.
        const all = await Promise.all(
          Array.from({ length: 40 }, (_, i) => driver.command({ ...LUN0, cdb: cdb.rw10(false, i, 1), dataIn: seg(0x40000 + i * 512, 512) })),
        );
        expect(all.every((x) => x.status === SAM_STAT_GOOD)).toBe(true);
      });
    }
  }

  it('[scsi.dev.5] status is a SAM status code: GOOD, or CHECK CONDITION with fixed-format sense for an LBA out of range', async () => {
    const { driver } = await ready();
    const ok = await driver.command({ ...LUN0, cdb: cdb.testUnitReady() });
    expect(ok.status).toBe(SAM_STAT_GOOD);
    expect(ok.sense.length).toBe(0);
    const bad = await driver.command({ ...LUN0, cdb: cdb.rw10(false, 2048, 1), dataIn: seg(DATA_BASE, 512) });
    expect(bad.response).toBe(VIRTIO_SCSI_S_OK);
    expect(bad.status).toBe(SAM_STAT_CHECK_CONDITION);
    expect(bad.sense[0]).toBe(0x70);
    expect(parseSense(bad.sense)).toEqual({ key: SENSE_ILLEGAL_REQUEST, asc: 0x21, ascq: 0 });
    expect(bad.residual).toBe(512);
  });

  it('[scsi.dev.5] an unknown opcode is CHECK CONDITION, INVALID COMMAND OPERATION CODE', async () => {
    const { driver } = await ready();
    const r = await driver.command({ ...LUN0, cdb: Uint8Array.of(0xee) });
    expect(r.status).toBe(SAM_STAT_CHECK_CONDITION);
    expect(parseSense(r.sense)).toEqual({ key: SENSE_ILLEGAL_REQUEST, asc: 0x20, ascq: 0 });
  });

  it('[scsi.dev.6] OVERRUN when the transfer length needs more data than datain holds', async () => {
    const { driver } = await ready();
    const r = await driver.command({ ...LUN0, cdb: cdb.rw10(false, 0, 2), dataIn: seg(DATA_BASE, 512) });
    expect(r.response).toBe(VIRTIO_SCSI_S_OVERRUN);
    const w = await driver.command({ ...LUN0, cdb: cdb.rw10(true, 0, 2), dataOut: seg(DATA_BASE, 512) });
    expect(w.response).toBe(VIRTIO_SCSI_S_OVERRUN);
  });

  it('INQUIRY: standard data, VPD pages 00h and 80h, truncated to the allocation length', async () => {
    const { driver, memory } = await ready();
    const r = await driver.command({ ...LUN0, cdb: cdb.inquiry(36), dataIn: seg(DATA_BASE, 96) });
    expect(r.residual).toBe(96 - 36);
    const d = new Uint8Array(36);
    memory.read(DATA_BASE, d);
    expect(d[0]).toBe(0);
    expect(String.fromCharCode(...d.subarray(8, 14))).toBe('VIRTIO');
    const vpd0 = await driver.command({ ...LUN0, cdb: cdb.inquiry(64, true, 0), dataIn: seg(DATA_BASE, 64) });
    expect(vpd0.residual).toBe(64 - 6);
    await driver.command({ ...LUN0, cdb: cdb.inquiry(64, true, 0x80), dataIn: seg(DATA_BASE, 64) });
    const sn = new Uint8Array(10);
    memory.read(DATA_BASE, sn);
    expect(sn[3]).toBe(6);
    expect(String.fromCharCode(...sn.subarray(4))).toBe('SN0001');
    const short = await driver.command({ ...LUN0, cdb: cdb.inquiry(5), dataIn: seg(DATA_BASE, 96) });
    expect(short.residual).toBe(91);
  });

  it('READ CAPACITY(10) and (16) report the last LBA and 512-byte blocks', async () => {
    const { driver, memory } = await ready({ diskSize: 1 << 20 });
    await driver.command({ ...LUN0, cdb: cdb.readCapacity10(), dataIn: seg(DATA_BASE, 8) });
    const dv = new DataView(memory.view(DATA_BASE, 32).slice().buffer);
    expect([dv.getUint32(0), dv.getUint32(4)]).toEqual([2047, 512]);
    await driver.command({ ...LUN0, cdb: cdb.readCapacity16(), dataIn: seg(DATA_BASE, 32) });
    const dv16 = new DataView(memory.view(DATA_BASE, 32).slice().buffer);
    expect([dv16.getBigUint64(0), dv16.getUint32(8)]).toEqual([2047n, 512]);
  });

  it('SYNCHRONIZE CACHE(10)/(16) flush the backend; MODE SENSE returns the caching page with WCE', async () => {
    const { driver, backend, memory } = await ready();
    await driver.command({ ...LUN0, cdb: cdb.syncCache10() });
    await driver.command({ ...LUN0, cdb: cdb.syncCache16() });
    expect(backend.flushes).toBe(2);
    const ms = await driver.command({ ...LUN0, cdb: cdb.modeSense6(0x08, 255), dataIn: seg(DATA_BASE, 255) });
    expect(ms.status).toBe(SAM_STAT_GOOD);
    const d = new Uint8Array(24);
    memory.read(DATA_BASE, d);
    expect([d[0], d[4], d[5], d[6] & 0x04]).toEqual([23, 0x08, 18, 0x04]);
    const ms10 = await driver.command({ ...LUN0, cdb: cdb.modeSense10(0x3f, 255), dataIn: seg(DATA_BASE, 255) });
    expect(ms10.residual).toBe(255 - 28);
    const bad = await driver.command({ ...LUN0, cdb: cdb.modeSense6(0x01, 255), dataIn: seg(DATA_BASE, 255) });
    expect(parseSense(bad.sense)?.asc).toBe(0x24);
  });

  it('a write to a read-only disk is DATA PROTECT, WRITE PROTECTED; MODE SENSE shows WP', async () => {
    const { driver, memory } = await ready({ readOnly: true });
    const w = await driver.command({ ...LUN0, cdb: cdb.rw10(true, 0, 1), dataOut: seg(DATA_BASE, 512) });
    expect(parseSense(w.sense)).toEqual({ key: SENSE_DATA_PROTECT, asc: 0x27, ascq: 0 });
    await driver.command({ ...LUN0, cdb: cdb.modeSense6(0x08, 255), dataIn: seg(DATA_BASE, 255) });
    expect(memory.readU8(DATA_BASE + 2) & 0x80).toBe(0x80);
  });

  it('REQUEST SENSE returns a pending unit attention, then NO SENSE', async () => {
    const { driver, memory, device } = rig();
    const r = await driver.command({ ...LUN0, cdb: cdb.requestSense(18), dataIn: seg(DATA_BASE, 18) });
    expect(r.status).toBe(SAM_STAT_GOOD);
    const s = new Uint8Array(18);
    memory.read(DATA_BASE, s);
    expect(parseSense(s)).toEqual({ key: SENSE_UNIT_ATTENTION, asc: 0x29, ascq: 0 });
    await driver.command({ ...LUN0, cdb: cdb.requestSense(18), dataIn: seg(DATA_BASE, 18) });
    memory.read(DATA_BASE, s);
    expect(parseSense(s)).toEqual({ key: 0, asc: 0, ascq: 0 });
    device.paramChanged(LUN0, 0x2a, 0x09);
    const ua = await driver.command({ ...LUN0, cdb: cdb.testUnitReady() });
    expect(parseSense(ua.sense)).toEqual({ key: SENSE_UNIT_ATTENTION, asc: 0x2a, ascq: 0x09 });
  });

  it('REPORT LUNS lists the target\'s units, through any unit and the well-known LUN', async () => {
    const { driver, memory, device, disk } = await ready();
    device.plug({ target: 0, lun: 300 }, disk);
    const r = await driver.command({ ...LUN0, cdb: cdb.reportLuns(64), dataIn: seg(DATA_BASE, 64) });
    expect(r.status).toBe(SAM_STAT_GOOD);
    const d = new Uint8Array(24);
    memory.read(DATA_BASE, d);
    expect(new DataView(d.buffer).getUint32(0)).toBe(16);
    expect([...d.subarray(8, 10)]).toEqual([0, 0]);
    expect([...d.subarray(16, 18)]).toEqual([0x41, 300 & 0xff]);
    expect(r.residual).toBe(64 - 24);
    const tooSmall = await driver.command({ ...LUN0, cdb: cdb.reportLuns(8), dataIn: seg(DATA_BASE, 64) });
    expect(parseSense(tooSmall.sense)?.asc).toBe(0x24);
  });
});
