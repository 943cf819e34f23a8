// Device-side behaviour of the SCSI host: configuration, response codes, task management,
// events and hotplug, driven by our driver.
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import {
  parseSense,
  SAM_STAT_CHECK_CONDITION,
  SCSI_DRIVER_FEATURES,
  SCSI_TYPE_MMC,
  ScsiConfigOffset,
  SENSE_ILLEGAL_REQUEST,
  VIRTIO_SCSI_CDB_SIZE_DEFAULT,
  VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE,
  VIRTIO_SCSI_EVT_ASYNC_POWER_MGMT,
  VIRTIO_SCSI_EVT_RESET_REMOVED,
  VIRTIO_SCSI_EVT_RESET_RESCAN,
  VIRTIO_SCSI_F_CHANGE,
  VIRTIO_SCSI_F_HOTPLUG,
  VIRTIO_SCSI_F_INOUT,
  VIRTIO_SCSI_S_ABORTED,
  VIRTIO_SCSI_S_BAD_TARGET,
  VIRTIO_SCSI_S_FAILURE,
  VIRTIO_SCSI_S_FUNCTION_COMPLETE,
  VIRTIO_SCSI_S_FUNCTION_REJECTED,
  VIRTIO_SCSI_S_FUNCTION_SUCCEEDED,
  VIRTIO_SCSI_S_INCORRECT_LUN,
  VIRTIO_SCSI_S_OK,
  VIRTIO_SCSI_S_RESET,
  VIRTIO_SCSI_S_TARGET_FAILURE,
  VIRTIO_SCSI_SENSE_SIZE_DEFAULT,
  VIRTIO_SCSI_T_ASYNC_NOTIFY,
  VIRTIO_SCSI_T_NO_EVENT,
  VIRTIO_SCSI_T_PARAM_CHANGE,
  VIRTIO_SCSI_T_TMF_ABORT_TASK,
  VIRTIO_SCSI_T_TMF_ABORT_TASK_SET,
  VIRTIO_SCSI_T_TMF_CLEAR_ACA,
  VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET,
  VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET,
  VIRTIO_SCSI_T_TMF_QUERY_TASK,
  VIRTIO_SCSI_T_TMF_QUERY_TASK_SET,
  VIRTIO_SCSI_T_TRANSPORT_RESET,
  type ScsiEvent,
} from '../src/index.js';
import { cdb, DATA_BASE, GatedUnit, rig, seg, settle } from './harness.js';

const T0 = { target: 0, lun: 0 };

function gatedRig(opts: Parameters<typeof rig>[0] = {}) {
  const unit = new GatedUnit();
  const r = rig({ ...opts, units: [{ ...T0, unit }] });
  const events: ScsiEvent[] = [];
  r.driver.onEvent = (e) => events.push(e);
  return { ...r, unit, events };
}

describe('configuration', () => {
  it('[scsi.dev.1] sense_size and cdb_size return to 96 and 32 at reset', async () => {
    const { transport, device, driver } = rig({ senseSize: 40, cdbSize: 16 });
    expect(device.readConfig(ScsiConfigOffset.sense_size, 4)).toBe(40);
    expect(device.readConfig(ScsiConfigOffset.cdb_size, 4)).toBe(16);
    await driver.reset();
    expect(transport.readConfig(ScsiConfigOffset.sense_size, 4)).toBe(VIRTIO_SCSI_SENSE_SIZE_DEFAULT);
    expect(transport.readConfig(ScsiConfigOffset.cdb_size, 4)).toBe(VIRTIO_SCSI_CDB_SIZE_DEFAULT);
  });

  it('reads the fields offered; read-only fields ignore writes; sense_size above 4096 is refused', () => {
    const { device } = rig({ numQueues: 3, cmdPerLun: 7, maxTarget: 3, maxLun: 9 });
    expect(device.numQueues).toBe(5);
    expect(device.readConfig(ScsiConfigOffset.num_queues, 4)).toBe(3);
    expect(device.readConfig(ScsiConfigOffset.cmd_per_lun, 4)).toBe(7);
    expect(device.readConfig(ScsiConfigOffset.event_info_size, 4)).toBe(16);
    expect(device.readConfig(ScsiConfigOffset.max_target, 2)).toBe(3);
    expect(device.readConfig(ScsiConfigOffset.max_lun, 4)).toBe(9);
    device.writeConfig(ScsiConfigOffset.num_queues, 4, 9);
    device.writeConfig(ScsiConfigOffset.sense_size, 4, 5000);
    expect(device.readConfig(ScsiConfigOffset.num_queues, 4)).toBe(3);
    expect(device.readConfig(ScsiConfigOffset.sense_size, 4)).toBe(96);
    expect(() => device.plug({ target: 4, lun: 0 }, new GatedUnit())).toThrow(RangeError);
  });

  it('the sense written is truncated to a smaller sense_size the driver chose', async () => {
    const { driver } = rig({ senseSize: 8 });
    const r = await driver.command({ ...T0, cdb: cdb.testUnitReady() });
    expect(r.status).toBe(SAM_STAT_CHECK_CONDITION);
    expect(r.sense.length).toBe(8);
  });
});

describe('response codes', () => {
  it('[scsi.dev.6] BAD_TARGET for a target that does not exist or a lun in another format', async () => {
    const { driver, device } = rig();
    expect((await driver.command({ target: 5, lun: 0, cdb: cdb.testUnitReady() })).response).toBe(VIRTIO_SCSI_S_BAD_TARGET);
    expect(device.unplug(T0)).toBe(true);
    expect((await driver.command({ ...T0, cdb: cdb.testUnitReady() })).response).toBe(VIRTIO_SCSI_S_BAD_TARGET);
  });

  it('a missing LUN on an existing target: INQUIRY peripheral qualifier 011b, other commands LOGICAL UNIT NOT SUPPORTED', async () => {
    const { driver, memory } = rig();
    const inq = await driver.command({ target: 0, lun: 4, cdb: cdb.inquiry(36), dataIn: seg(DATA_BASE, 36) });
    expect(inq.response).toBe(VIRTIO_SCSI_S_OK);
    expect(memory.readU8(DATA_BASE)).toBe(0x7f);
    const tur = await driver.command({ target: 0, lun: 4, cdb: cdb.testUnitReady() });
    expect(parseSense(tur.sense)).toEqual({ key: SENSE_ILLEGAL_REQUEST, asc: 0x25, ascq: 0 });
  });

  it('bidirectional commands: refused by the driver without VIRTIO_SCSI_F_INOUT; with it the unit sees both directions', async () => {
    const without = gatedRig({ inout: false });
    const w = without.driver;
    expect(w.features & featureMask(VIRTIO_SCSI_F_INOUT)).toBe(0n);
    await expect(w.command({ ...T0, cdb: cdb.testUnitReady(), dataOut: seg(DATA_BASE, 8), dataIn: seg(DATA_BASE + 512, 8) })).rejects.toThrow(RangeError);
    const withIt = gatedRig();
    const p = withIt.driver.command({ ...T0, cdb: cdb.testUnitReady(), dataOut: seg(DATA_BASE, 8), dataIn: seg(DATA_BASE + 512, 16) });
    await settle();
    expect(withIt.unit.held[0].cmd.dataOutLength).toBe(8);
    expect(withIt.unit.held[0].cmd.dataInLength).toBe(16);
    withIt.unit.held[0].release({ status: 0, dataOutRead: 8, dataInWritten: 4 });
    const r = await p;
    expect([r.response, r.residual]).toEqual([VIRTIO_SCSI_S_OK, 12]);
  });

  it('TARGET_FAILURE when the unit throws or rejects', async () => {
    const { driver, device } = rig({ units: [{ ...T0, unit: { peripheralType: 0, execute: () => Promise.reject(new Error('x')) } }] });
    expect((await driver.command({ ...T0, cdb: cdb.testUnitReady() })).response).toBe(VIRTIO_SCSI_S_TARGET_FAILURE);
    device.plug({ target: 1, lun: 0 }, { peripheralType: 0, execute: () => { throw new Error('y'); } });
    expect((await driver.command({ target: 1, lun: 0, cdb: cdb.testUnitReady() })).response).toBe(VIRTIO_SCSI_S_TARGET_FAILURE);
  });
});

describe('task management', () => {
  it('[scsi.dev.6] ABORT TASK completes the command with ABORTED before the TMF completes', async () => {
    const { driver, unit } = gatedRig();
    const order: string[] = [];
    const a = driver.command({ ...T0, cdb: cdb.testUnitReady(), id: 11n }).then((r) => (order.push('cmd11'), r));
    const b = driver.command({ ...T0, cdb: cdb.testUnitReady(), id: 12n }).then((r) => (order.push('cmd12'), r));
    await settle();
    expect(await driver.tmf(VIRTIO_SCSI_T_TMF_QUERY_TASK, T0, 11n)).toBe(VIRTIO_SCSI_S_FUNCTION_SUCCEEDED);
    expect(await driver.tmf(VIRTIO_SCSI_T_TMF_QUERY_TASK, T0, 99n)).toBe(VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    const tmf = driver.tmf(VIRTIO_SCSI_T_TMF_ABORT_TASK, T0, 11n).then((r) => (order.push('tmf'), r));
    await settle();
    expect(order).toEqual([]);
    unit.held[0].release();
    expect(await tmf).toBe(VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    expect((await a).response).toBe(VIRTIO_SCSI_S_ABORTED);
    expect(order).toEqual(['cmd11', 'tmf']);
    unit.held[1].release();
    expect((await b).response).toBe(VIRTIO_SCSI_S_OK);
  });

  it('[scsi.dev.6] ABORT TASK SET aborts every command of the unit; QUERY TASK SET sees them', async () => {
    const { driver, unit } = gatedRig();
    const cmds = [1n, 2n, 3n].map((id) => driver.command({ ...T0, cdb: cdb.testUnitReady(), id }));
    await settle();
    expect(await driver.tmf(VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, T0)).toBe(VIRTIO_SCSI_S_FUNCTION_SUCCEEDED);
    const tmf = driver.tmf(VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, T0);
    await settle();
    unit.releaseAll();
    expect(await tmf).toBe(VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    for (const c of cmds) expect((await c).response).toBe(VIRTIO_SCSI_S_ABORTED);
    expect(await driver.tmf(VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, T0)).toBe(VIRTIO_SCSI_S_FUNCTION_COMPLETE);
  });

  it('[scsi.dev.6] LOGICAL UNIT RESET and I_T NEXUS RESET complete active commands with RESET and reset the units', async () => {
    const { driver, unit, device } = gatedRig();
    const other = new GatedUnit();
    device.plug({ target: 0, lun: 1 }, other);
    const resetsBefore = unit.resets;
    const c1 = driver.command({ ...T0, cdb: cdb.testUnitReady() });
    await settle();
    const lur = driver.tmf(VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, T0);
    await settle();
    unit.releaseAll();
    expect(await lur).toBe(VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    expect((await c1).response).toBe(VIRTIO_SCSI_S_RESET);
    expect(unit.resets).toBe(resetsBefore + 1);
    const c2 = driver.command({ target: 0, lun: 1, cdb: cdb.testUnitReady() });
    await settle();
    const itr = driver.tmf(VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET, { target: 0, lun: 0 });
    await settle();
    other.releaseAll();
    expect(await itr).toBe(VIRTIO_SCSI_S_FUNCTION_COMPLETE);
    expect((await c2).response).toBe(VIRTIO_SCSI_S_RESET);
    expect(unit.resets).toBe(resetsBefore + 2);
  });

  it('TMF addressing: BAD_TARGET, INCORRECT_LUN; CLEAR ACA is rejected', async () => {
    const { driver } = gatedRig();
    expect(await driver.tmf(VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, { target: 9, lun: 0 })).toBe(VIRTIO_SCSI_S_BAD_TARGET);
    expect(await driver.tmf(VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, { target: 0, lun: 9 })).toBe(VIRTIO_SCSI_S_INCORRECT_LUN);
    expect(await driver.tmf(VIRTIO_SCSI_T_TMF_CLEAR_ACA, T0)).toBe(VIRTIO_SCSI_S_FUNCTION_REJECTED);
    expect(await driver.tmf(77, T0)).toBe(VIRTIO_SCSI_S_FUNCTION_REJECTED);
  });
});

describe('events and hotplug', () => {
  it('[scsi.dev.9] hotplug and unplug send RESCAN and REMOVED only with VIRTIO_SCSI_F_HOTPLUG', async () => {
    const withIt = gatedRig();
    withIt.device.plug({ target: 2, lun: 0 }, new GatedUnit());
    withIt.device.unplug({ target: 2, lun: 0 });
    await settle();
    expect(withIt.events.map((e) => [e.event, e.reason, e.address?.target])).toEqual([
      [VIRTIO_SCSI_T_TRANSPORT_RESET, VIRTIO_SCSI_EVT_RESET_RESCAN, 2],
      [VIRTIO_SCSI_T_TRANSPORT_RESET, VIRTIO_SCSI_EVT_RESET_REMOVED, 2],
    ]);
    const without = gatedRig({ wantedFeatures: SCSI_DRIVER_FEATURES & ~featureMask(VIRTIO_SCSI_F_HOTPLUG) });
    without.device.plug({ target: 0, lun: 2 }, new GatedUnit());
    without.device.unplug({ target: 0, lun: 2 });
    await settle();
    expect(without.events).toEqual([]);
    // The target's other units learn of the change by a unit attention.
    expect(without.unit.attentions).toContainEqual([0x3f, 0x0e]);
  });

  it('[scsi.dev.8] events lost for want of buffers set bit 31, on a NO_EVENT as soon as a buffer comes', async () => {
    const { driver, device, events } = gatedRig({ eventBuffers: 1 });
    driver.onEvent = (e) => events.push(e);
    // Hold back the interrupt so the driver does not recycle its only buffer at once.
    const handle = driver.handleInterrupt.bind(driver);
    let deferred = 0;
    driver.handleInterrupt = () => void deferred++;
    device.plug({ target: 3, lun: 0 }, new GatedUnit());
    device.plug({ target: 4, lun: 0 }, new GatedUnit());
    driver.handleInterrupt = handle;
    expect(deferred).toBeGreaterThan(0);
    driver.handleInterrupt();
    await settle();
    expect(events.map((e) => [e.event, e.missed])).toEqual([
      [VIRTIO_SCSI_T_TRANSPORT_RESET, false],
      [VIRTIO_SCSI_T_NO_EVENT, true],
    ]);
    device.plug({ target: 5, lun: 0 }, new GatedUnit());
    await settle();
    expect(events.at(-1)?.missed).toBe(false);
  });

  it('[scsi.dev.10] PARAM_CHANGE is reported (with CHANGE) for a disk, never for an MMC unit', async () => {
    const { device, events, unit } = gatedRig();
    const mmc = new GatedUnit(SCSI_TYPE_MMC);
    device.plug({ target: 1, lun: 0 }, mmc);
    await settle();
    events.length = 0;
    device.paramChanged({ target: 1, lun: 0 }, 0x2a, 0x09);
    device.paramChanged(T0, 0x2a, 0x09);
    await settle();
    expect(events.map((e) => [e.event, e.address?.target, e.reason])).toEqual([[VIRTIO_SCSI_T_PARAM_CHANGE, 0, 0x2a | (0x09 << 8)]]);
    expect(mmc.attentions).toContainEqual([0x2a, 0x09]);
    expect(unit.attentions).toContainEqual([0x2a, 0x09]);
    const noChange = gatedRig({ wantedFeatures: SCSI_DRIVER_FEATURES & ~featureMask(VIRTIO_SCSI_F_CHANGE) });
    noChange.device.paramChanged(T0, 0x2a, 0x09);
    await settle();
    expect(noChange.events).toEqual([]);
  });

  it('asynchronous notification: query, subscribe, then only subscribed events are reported', async () => {
    const { driver, device, unit, events } = gatedRig();
    unit.asyncEvents = VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE;
    const q = await driver.anQuery(T0, VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE | VIRTIO_SCSI_EVT_ASYNC_POWER_MGMT);
    expect(q).toEqual({ response: VIRTIO_SCSI_S_OK, eventActual: VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE });
    device.asyncNotify(T0, VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE);
    await settle();
    expect(events).toEqual([]);
    const s = await driver.anSubscribe(T0, VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE | VIRTIO_SCSI_EVT_ASYNC_POWER_MGMT);
    expect(s.eventActual).toBe(VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE);
    device.asyncNotify(T0, VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE | VIRTIO_SCSI_EVT_ASYNC_POWER_MGMT);
    await settle();
    expect(events.map((e) => [e.event, e.reason])).toEqual([[VIRTIO_SCSI_T_ASYNC_NOTIFY, VIRTIO_SCSI_EVT_ASYNC_MEDIA_CHANGE]]);
    expect((await driver.anQuery({ target: 7, lun: 0 }, 2)).response).toBe(VIRTIO_SCSI_S_BAD_TARGET);
  });

  it('[scsi.dev.7] commands in flight on an unplugged unit complete with FAILURE once the unit is done with them', async () => {
    const { driver, device, unit } = gatedRig();
    const c = driver.command({ ...T0, cdb: cdb.rw10(false, 0, 1), dataIn: seg(DATA_BASE, 512) });
    await settle();
    device.unplug(T0);
    await settle();
    expect(device.inFlight).toBe(1);
    unit.releaseAll();
    const r = await c;
    expect(r.response).toBe(VIRTIO_SCSI_S_FAILURE);
    expect(r.residual).toBe(512);
  });

  it('a device reset waits for units still holding guest buffers, and drops their results', async () => {
    const { driver, unit, device } = gatedRig();
    const c = driver.command({ ...T0, cdb: cdb.testUnitReady() });
    await settle();
    let done = false;
    const reset = driver.reset().then(() => (done = true));
    await expect(c).rejects.toThrow(/reset/);
    await settle();
    expect(done).toBe(false);
    unit.releaseAll();
    await reset;
    expect(device.inFlight).toBe(0);
  });
});
