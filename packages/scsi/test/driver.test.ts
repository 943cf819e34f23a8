// The driver held to the spec's driver requirements.
import { describe, expect, it } from 'vitest';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import {
  ScsiConfigOffset,
  ScsiDriverError,
  VIRTIO_SCSI_EVENT_SIZE,
  VIRTIO_SCSI_S_OK,
  VIRTIO_SCSI_T_TRANSPORT_RESET,
  type ScsiDevice,
} from '../src/index.js';
import { cdb, DATA_BASE, GatedUnit, rig, seg, settle } from './harness.js';
import { RecordingDevice } from './recording-device.js';

const T0 = { target: 0, lun: 0 };

describe('ScsiDriver', () => {
  it('[scsi.drv.1] writes no configuration field other than sense_size and cdb_size', async () => {
    let rec: RecordingDevice | undefined;
    const { driver } = rig({ senseSize: 64, cdbSize: 16, wrap: (d: ScsiDevice) => (rec = new RecordingDevice(d)) });
    await driver.command({ ...T0, cdb: cdb.testUnitReady() });
    const offsets = new Set(rec!.configWrites.map((w) => w.offset));
    expect(offsets).toEqual(new Set([ScsiConfigOffset.sense_size, ScsiConfigOffset.cdb_size]));
    expect(driver.config.senseSize).toBe(64);
    expect(driver.config.cdbSize).toBe(16);
  });

  it('[scsi.drv.2] keeps at most cmd_per_lun commands in flight to one LUN, the rest wait', async () => {
    const unit = new GatedUnit();
    const other = new GatedUnit();
    const { driver } = rig({ cmdPerLun: 2, units: [{ ...T0, unit }, { target: 0, lun: 1, unit: other }] });
    const cmds = Array.from({ length: 5 }, () => driver.command({ ...T0, cdb: cdb.testUnitReady() }));
    const o = driver.command({ target: 0, lun: 1, cdb: cdb.testUnitReady() });
    await settle();
    expect(unit.held.length).toBe(2);
    expect(driver.inFlight(T0)).toBe(2);
    // A LUN over its budget does not hold back another LUN.
    expect(other.held.length).toBe(1);
    other.releaseAll();
    await o;
    for (let round = 0; round < 3; round++) {
      unit.releaseAll();
      await settle();
      expect(unit.held.length).toBeLessThanOrEqual(2);
    }
    unit.releaseAll();
    for (const c of cmds) expect((await c).response).toBe(VIRTIO_SCSI_S_OK);
    expect(driver.inFlight(T0)).toBe(0);
  });

  it('[scsi.drv.3] sends task_attr, prio and crn as zero', async () => {
    const unit = new GatedUnit();
    const { driver } = rig({ units: [{ ...T0, unit }] });
    const c = driver.command({ ...T0, cdb: cdb.testUnitReady() });
    await settle();
    expect([unit.held[0].cmd.taskAttr, unit.held[0].cmd.prio, unit.held[0].cmd.crn]).toEqual([0, 0, 0]);
    unit.releaseAll();
    await c;
  });

  it('[scsi.drv.5] keeps the eventq populated with device-writable buffers of at least event_info_size bytes', async () => {
    let rec: RecordingDevice | undefined;
    const { driver, device } = rig({ eventBuffers: 2, wrap: (d: ScsiDevice) => (rec = new RecordingDevice(d)) });
    const seen: number[] = [];
    driver.onEvent = (e) => seen.push(e.event);
    for (let i = 1; i <= 6; i++) device.plug({ target: i, lun: 0 }, new GatedUnit());
    await settle();
    // More events than buffers, each delivered: the driver put every used buffer back.
    expect(seen).toEqual(Array(6).fill(VIRTIO_SCSI_T_TRANSPORT_RESET));
    expect(rec!.eventChains.length).toBe(6);
    for (const c of rec!.eventChains) {
      expect(c.readableLength).toBe(0);
      expect(c.writableLength).toBeGreaterThanOrEqual(Math.max(driver.config.eventInfoSize, VIRTIO_SCSI_EVENT_SIZE));
    }
  });

  it('uses several request queues', async () => {
    const { driver, memory } = rig({ numQueues: 3, queues: 2 });
    expect(driver.numQueues).toBe(2);
    await driver.command({ ...T0, cdb: cdb.testUnitReady() });
    memory.write(DATA_BASE, new Uint8Array(512).fill(9));
    await driver.command({ ...T0, cdb: cdb.rw10(true, 1, 1), dataOut: seg(DATA_BASE, 512), queue: 1 });
    const r = await driver.command({ ...T0, cdb: cdb.rw10(false, 1, 1), dataIn: seg(DATA_BASE + 512, 512), queue: 0 });
    expect(r.status).toBe(0);
    expect(memory.readU8(DATA_BASE + 1000)).toBe(9);
  });

  it('refuses what the spec forbids before exposing it: a CDB above cdb_size, a bad address', async () => {
    const { driver } = rig({ cdbSize: 10 });
    await expect(driver.command({ ...T0, cdb: new Uint8Array(16) })).rejects.toThrow(RangeError);
    await expect(driver.command({ target: 256, lun: 0, cdb: cdb.testUnitReady() })).rejects.toThrow(RangeError);
    await expect(driver.command({ ...T0, cdb: cdb.testUnitReady(), queue: 4 })).rejects.toThrow(RangeError);
  });

  it('rejects outstanding commands when the device needs a reset', async () => {
    const unit = new GatedUnit();
    const { driver, state, device } = rig({ units: [{ ...T0, unit }] });
    const c = driver.command({ ...T0, cdb: cdb.testUnitReady() }).catch((e: unknown) => e);
    await settle();
    // A control chain with nothing writable is unanswerable: the device asks for a reset.
    const q = driver.device.queues[0]!;
    q.add([{ addr: DATA_BASE, len: 24 }], [], 999);
    driver.device.kick(0);
    await settle();
    expect(state.status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET).not.toBe(0);
    expect(await c).toBeInstanceOf(ScsiDriverError);
    unit.releaseAll();
    await settle();
    expect(device.inFlight).toBe(0);
  });
});
