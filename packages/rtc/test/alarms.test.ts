// Alarms (spec 5.23.6.4): alarm control requests, expiration events, serving them with
// VIRTIO_RTC_NOTIF_ALARM on the alarmq, alarms across device resets.
import { describe, expect, it } from 'vitest';
import { hasFeature } from '@virtio/core';
import {
  FakeTimeSource,
  LeapSecondTable,
  RtcDevice,
  RtcDriver,
  VIRTIO_RTC_F_ALARM,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_TAI,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_CLOCK_UTC_SMEARED,
  VIRTIO_RTC_FLAG_ALARM_ENABLED,
  VIRTIO_RTC_REQ_READ_ALARM,
  VIRTIO_RTC_REQ_SET_ALARM,
  VIRTIO_RTC_REQ_SET_ALARM_ENABLED,
  VIRTIO_RTC_S_ENODEV,
  VIRTIO_RTC_S_OK,
  VIRTIO_RTC_SMEAR_NOON_LINEAR,
  type RtcDeviceOptions,
  type RtcDriverOptions,
} from '../src/index.js';
import { done, NS, raw, req, rig, settle, started, TAI_2026, UTC_2026, VARIANTS, type Rig } from './harness.js';

/** Clock 0: UTC with alarm; 1: TAI without; 2: monotonic with alarm. */
const CLOCKS = [{ type: VIRTIO_RTC_CLOCK_UTC, alarm: true }, { type: VIRTIO_RTC_CLOCK_TAI }, { type: VIRTIO_RTC_CLOCK_MONOTONIC, alarm: true }];
const NOW = UTC_2026 * NS;

/** Notifications the driver received (each with the reading it took after it). */
async function notified(r: Rig): Promise<number[]> {
  await settle();
  await settle();
  return r.driver.takeAlarms().map((a) => a.clockId);
}

/** A rig initialized but not started: requests work, the alarmq has no buffer yet. */
function unstarted(devOpts: Partial<RtcDeviceOptions> = {}, drvOpts: Partial<RtcDriverOptions> = {}): Rig {
  return rig({ clocks: CLOCKS, ...devOpts }, drvOpts);
}

async function start(r: Rig, clearAlarms = false): Promise<void> {
  await done(r.driver.start({ clearAlarms }));
}

/** Resets the device and initializes a new driver on the same transport (same memory and clock). */
function reinit(r: Rig, drvOpts: Partial<RtcDriverOptions> = {}): Rig {
  r.driver.reset();
  const driver = RtcDriver.initialize(r.transport, { memory: r.memory, allocator: r.allocator, ...drvOpts });
  r.transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { ...r, driver };
}

const setAlarmReq = (id: number, time: bigint, flags: number) => req(24, [[0, 2, VIRTIO_RTC_REQ_SET_ALARM], [8, 8, time], [16, 2, id], [18, 1, flags]]);

describe('alarm control requests', () => {
  it('[rtc.dev.1] VIRTIO_RTC_F_ALARM (and the alarmq) is offered exactly when some clock supports an alarm', () => {
    const withAlarm = new RtcDevice({ clocks: CLOCKS });
    expect(hasFeature(withAlarm.deviceFeatures, VIRTIO_RTC_F_ALARM)).toBe(true);
    expect(withAlarm.numQueues).toBe(2);
    const without = new RtcDevice({ clocks: [{ type: VIRTIO_RTC_CLOCK_TAI }, { type: VIRTIO_RTC_CLOCK_UTC }] });
    expect(hasFeature(without.deviceFeatures, VIRTIO_RTC_F_ALARM)).toBe(false);
    expect(without.numQueues).toBe(1);
    expect(without.queueMaxSize(1)).toBe(0);
  });

  it('[rtc.dev.59] with VIRTIO_RTC_F_ALARM the alarm messages work for the clocks with an alarm', async () => {
    const r = await started({ clocks: CLOCKS });
    expect(r.driver.alarmNegotiated).toBe(true);
    await done(r.driver.setAlarm(0, NOW + NS, false));
    expect(await done(r.driver.readAlarm(0))).toEqual({ alarmTime: NOW + NS, enabled: false });
    await done(r.driver.setAlarmEnabled(0, true));
    r.clock.advance(NS);
    expect(await notified(r)).toEqual([0]);
  });

  it('[rtc.dev.60] [rtc.dev.75] without VIRTIO_RTC_F_ALARM every alarm message gets ENODEV and there is no alarmq', async () => {
    const r = await started({ clocks: CLOCKS }, { alarm: false });
    expect(r.driver.alarmNegotiated).toBe(false);
    expect(r.driver.device.queues[1]).toBeUndefined();
    expect((await raw(r, req(16, [[0, 2, VIRTIO_RTC_REQ_READ_ALARM], [8, 2, 0]]), 24)).status).toBe(VIRTIO_RTC_S_ENODEV);
    expect((await raw(r, setAlarmReq(0, 1n, VIRTIO_RTC_FLAG_ALARM_ENABLED), 8)).status).toBe(VIRTIO_RTC_S_ENODEV);
    expect((await raw(r, req(16, [[0, 2, VIRTIO_RTC_REQ_SET_ALARM_ENABLED], [8, 2, 0], [10, 1, 1]]), 8)).status).toBe(VIRTIO_RTC_S_ENODEV);
    expect(r.device.alarm(0)).toEqual({ time: 0n, enabled: false });
    expect(r.device.stats.expirations).toBe(0);
  });

  it('[rtc.dev.61] CLOCK_CAP sets VIRTIO_RTC_FLAG_ALARM_CAP exactly for the clocks with an alarm', async () => {
    const r = await started({ clocks: CLOCKS });
    expect(r.driver.clocks.map((c) => c.alarm)).toEqual([true, false, true]);
  });

  it('[rtc.dev.76] alarm messages for a clock without an alarm get ENODEV', async () => {
    const r = await started({ clocks: CLOCKS });
    expect((await raw(r, req(16, [[0, 2, VIRTIO_RTC_REQ_READ_ALARM], [8, 2, 1]]), 24)).status).toBe(VIRTIO_RTC_S_ENODEV);
    expect((await raw(r, setAlarmReq(1, 1n, 1), 8)).status).toBe(VIRTIO_RTC_S_ENODEV);
    expect((await raw(r, req(16, [[0, 2, VIRTIO_RTC_REQ_SET_ALARM_ENABLED], [8, 2, 1], [10, 1, 1]]), 8)).status).toBe(VIRTIO_RTC_S_ENODEV);
    expect((await raw(r, setAlarmReq(0, 1n, 0), 8)).status).toBe(VIRTIO_RTC_S_OK);
  });

  it('[rtc.dev.77] [rtc.dev.81] READ_ALARM returns the alarm time SET_ALARM set', async () => {
    const r = await started({ clocks: CLOCKS });
    for (const t of [NOW + 123_456_789n, 5n, NOW * 3n]) {
      await done(r.driver.setAlarm(0, t, false));
      expect((await done(r.driver.readAlarm(0))).alarmTime).toBe(t);
    }
  });

  it('[rtc.dev.78] [rtc.dev.82] [rtc.dev.83] SET_ALARM enables or disables by its flag; READ_ALARM reports it', async () => {
    const r = await started({ clocks: CLOCKS });
    await done(r.driver.setAlarm(2, 100n * NS, true));
    expect(await done(r.driver.readAlarm(2))).toEqual({ alarmTime: 100n * NS, enabled: true });
    const res = await raw(r, req(16, [[0, 2, VIRTIO_RTC_REQ_READ_ALARM], [8, 2, 2]]), 24);
    expect(res.resp[16]).toBe(VIRTIO_RTC_FLAG_ALARM_ENABLED);
    await done(r.driver.setAlarm(2, 100n * NS, false));
    expect(await done(r.driver.readAlarm(2))).toEqual({ alarmTime: 100n * NS, enabled: false });
    expect((await raw(r, req(16, [[0, 2, VIRTIO_RTC_REQ_READ_ALARM], [8, 2, 2]]), 24)).resp[16]).toBe(0);
  });

  it('[rtc.dev.84] [rtc.dev.85] [rtc.dev.86] SET_ALARM_ENABLED enables or disables and keeps the alarm time', async () => {
    const r = await started({ clocks: CLOCKS });
    await done(r.driver.setAlarm(0, NOW + 77n, false));
    await done(r.driver.setAlarmEnabled(0, true));
    expect(await done(r.driver.readAlarm(0))).toEqual({ alarmTime: NOW + 77n, enabled: true });
    await done(r.driver.setAlarmEnabled(0, false));
    expect(await done(r.driver.readAlarm(0))).toEqual({ alarmTime: NOW + 77n, enabled: false });
  });

  it('[rtc.dev.80] SET_ALARM accepts any alarm_time', async () => {
    const r = await started({ clocks: CLOCKS });
    for (const t of [0n, 1n, 1n << 63n, (1n << 64n) - 1n]) {
      await done(r.driver.setAlarm(0, t, false));
      expect((await done(r.driver.readAlarm(0))).alarmTime).toBe(t);
    }
  });

  it('[rtc.dev.79] alarm times are in nanoseconds of the clock', async () => {
    const r = await started({ clocks: CLOCKS });
    await done(r.driver.setAlarm(0, NOW + 1_500_000_000n, true));
    r.clock.advance(1_499_999_999n);
    r.device.checkAlarms();
    expect(await notified(r)).toEqual([]);
    r.clock.advance(1n);
    r.device.checkAlarms();
    expect(await notified(r)).toEqual([0]);
  });
});

describe.each(VARIANTS)('alarm expiration over $name', ({ features }) => {
  it('[rtc.dev.62] the clock reaching the alarm time, by progressing or by stepping, is an expiration event', async () => {
    const r = await started({ clocks: CLOCKS }, { ringFeatures: features });
    await done(r.driver.setAlarm(0, NOW + 5n * NS, true));
    r.clock.advance(4n * NS);
    expect(await notified(r)).toEqual([]);
    r.clock.advance(NS);
    expect(await notified(r)).toEqual([0]);
    // Back before the alarm time, then a step past it: expires again.
    r.clock.setTai(TAI_2026);
    expect(await notified(r)).toEqual([]);
    r.clock.setTai(TAI_2026 + 3600n * NS);
    expect(await notified(r)).toEqual([0]);
    // Staying past it is no new event.
    r.clock.advance(60n * NS);
    r.device.checkAlarms();
    expect(await notified(r)).toEqual([]);
  });

  it('[rtc.dev.63] setting an enabled alarm to a time already reached is an expiration event', async () => {
    const r = await started({ clocks: CLOCKS }, { ringFeatures: features });
    await done(r.driver.setAlarm(0, NOW - NS, false));
    expect(await notified(r)).toEqual([]);
    await done(r.driver.setAlarm(0, NOW, true));
    expect(await notified(r)).toEqual([0]);
    await done(r.driver.setAlarm(2, 0n, true));
    expect(await notified(r)).toEqual([2]);
  });

  it('[rtc.dev.64] enabling an alarm whose time was reached is an expiration event, each time', async () => {
    const r = await started({ clocks: CLOCKS }, { ringFeatures: features });
    await done(r.driver.setAlarm(0, NOW - NS, false));
    await done(r.driver.setAlarmEnabled(0, true));
    expect(await notified(r)).toEqual([0]);
    await done(r.driver.setAlarmEnabled(0, true));
    expect(await notified(r)).toEqual([0]);
  });

  it('[rtc.dev.55] after a notification, reads of the clock do not precede the alarm time (a smeared clock runs slow)', async () => {
    const M = UTC_2026 + 86_400n;
    const clocks = [{ type: VIRTIO_RTC_CLOCK_UTC_SMEARED, smearing: VIRTIO_RTC_SMEAR_NOON_LINEAR, alarm: true }];
    const clock = new FakeTimeSource({ taiNs: (M - 3600n + 37n) * NS });
    const r = await started({ clocks, leapSeconds: new LeapSecondTable({ leaps: [{ utc: Number(M), step: 1 }] }) }, { ringFeatures: features }, clock);
    const alarmAt = (M - 1800n) * NS + 1n;
    await done(r.driver.setAlarm(0, alarmAt, true));
    // Physical time passes in small steps; the device's timer fires when it thinks the time is due.
    for (let i = 0; i < 1900 && r.device.stats.notifications === 0; i++) clock.advance(NS);
    await settle();
    await settle();
    const [n] = r.driver.takeAlarms();
    expect(n.clockId).toBe(0);
    expect(n.clockReading).toBeGreaterThanOrEqual(alarmAt);
    expect(await done(r.driver.read(0))).toBeGreaterThanOrEqual(alarmAt);
  });
});

describe('serving expiration events', () => {
  it('[rtc.dev.66] [rtc.dev.68] an expiration event is served: the implementation-specific action runs and a notification is owed', async () => {
    const actions: number[] = [];
    const r = unstarted({ onAlarm: (id) => actions.push(id) });
    await done(r.driver.setAlarm(2, 0n, true));
    expect(actions).toEqual([2]);
    expect(r.device.stats.expirations).toBe(1);
    await start(r);
    expect(await notified(r)).toEqual([2]);
  });

  it('[rtc.dev.67] one notification per expiration event, as soon as an alarmq buffer is available', async () => {
    const r = unstarted({}, { alarmBuffers: 1 });
    await done(r.driver.setAlarm(0, NOW - 1n, true));
    await done(r.driver.setAlarm(2, 0n, true));
    expect(r.device.stats.notifications).toBe(0);
    await start(r);
    expect((await notified(r)).sort()).toEqual([0, 2]);
    r.clock.advance(10n * NS);
    r.device.checkAlarms();
    expect(await notified(r)).toEqual([]);
    expect(r.device.stats.notifications).toBe(2);
  });

  it('[rtc.dev.71] disabling an alarm stops serving its expiration before the response is used', async () => {
    for (const disable of ['set-alarm', 'set-alarm-enabled'] as const) {
      const r = unstarted();
      await done(r.driver.setAlarm(0, NOW, true));
      if (disable === 'set-alarm') await done(r.driver.setAlarm(0, NOW, false));
      else await done(r.driver.setAlarmEnabled(0, false));
      await start(r);
      expect(await notified(r), disable).toEqual([]);
    }
  });

  it('[rtc.dev.72] a new alarm time, keeping the alarm enabled, may end serving the old expiration', async () => {
    const r = unstarted();
    await done(r.driver.setAlarm(0, NOW, true));
    await done(r.driver.setAlarm(0, NOW + 60n * NS, true));
    await start(r);
    expect(await notified(r)).toEqual([]);
    r.clock.advance(60n * NS);
    expect(await notified(r)).toEqual([0]);
  });

  it('[rtc.dev.73] a clock stepped back before the alarm time may end serving the expiration', async () => {
    const r = unstarted();
    await done(r.driver.setAlarm(0, NOW, true));
    r.clock.setTai(TAI_2026 - 10n * NS);
    await start(r);
    expect(await notified(r)).toEqual([]);
  });

  it('[rtc.dev.74] a second expiration while the first is served gives one notification', async () => {
    const r = unstarted();
    await done(r.driver.setAlarm(0, NOW, true));
    await done(r.driver.setAlarmEnabled(0, true));
    expect(r.device.stats.expirations).toBe(2);
    await start(r);
    expect(await notified(r)).toEqual([0]);
  });

  it('[rtc.dev.69] [rtc.dev.70] implementation-specific actions run whatever the device status and the features', async () => {
    const actions: number[] = [];
    const r = await started({ clocks: CLOCKS, retainAlarms: true, onAlarm: (id) => actions.push(id) });
    await done(r.driver.setAlarm(0, NOW + NS, true));
    r.driver.reset();
    r.clock.advance(NS);
    expect(actions).toEqual([0]);
    // Re-initialization resets the device again: with the alarm retained and reached, an expiration.
    const driver = RtcDriver.initialize(r.transport, { memory: r.memory, allocator: r.allocator, alarm: false });
    r.transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
    const plain = { ...r, driver };
    expect(plain.driver.alarmNegotiated).toBe(false);
    expect(actions).toEqual([0, 0]);
    r.clock.setTai(TAI_2026);
    r.clock.setTai(TAI_2026 + 2n * NS);
    expect(actions).toEqual([0, 0, 0]);
    expect(await notified(plain)).toEqual([]);
  });

  it('[rtc.dev.87] no notification ever names a clock without an alarm', async () => {
    const r = await started({ clocks: CLOCKS });
    await raw(r, setAlarmReq(1, 0n, 1), 8);
    await done(r.driver.setAlarm(0, 0n, true));
    await done(r.driver.setAlarm(2, 0n, true));
    r.clock.setTai(0n);
    r.clock.setTai(TAI_2026);
    const ids = await notified(r);
    expect(ids.length).toBeGreaterThan(1);
    expect(ids).not.toContain(1);
  });
});

describe('alarms across device reset', () => {
  it('[rtc.dev.56] the device may retain alarm time and enabled flag across a reset', async () => {
    const r = await started({ clocks: CLOCKS, retainAlarms: true });
    await done(r.driver.setAlarm(0, NOW + 3600n * NS, true));
    const again = reinit(r);
    expect(await done(again.driver.readAlarm(0))).toEqual({ alarmTime: NOW + 3600n * NS, enabled: true });
  });

  it('[rtc.dev.57] [rtc.dev.58] an alarm not retained is back to time 0, disabled, after a reset', async () => {
    const r = await started({ clocks: CLOCKS });
    await done(r.driver.setAlarm(0, NOW + 3600n * NS, true));
    await done(r.driver.setAlarm(2, 99n, false));
    const again = reinit(r);
    expect(await done(again.driver.readAlarm(0))).toEqual({ alarmTime: 0n, enabled: false });
    expect(await done(again.driver.readAlarm(2))).toEqual({ alarmTime: 0n, enabled: false });
    r.clock.advance(7200n * NS);
    await start(again);
    expect(await notified(again)).toEqual([]);
  });

  it('[rtc.dev.65] a reset with a retained, enabled alarm already reached is an expiration event', async () => {
    const r = await started({ clocks: CLOCKS, retainAlarms: true });
    await done(r.driver.setAlarm(0, NOW, true));
    expect(await notified(r)).toEqual([0]);
    expect(r.device.stats.expirations).toBe(1);
    const again = reinit(r);
    expect(r.device.stats.expirations).toBeGreaterThan(1);
    await start(again);
    expect(await notified(again)).toEqual([0]);
  });

  it('the driver clears alarms left from before the reset before it takes notifications', async () => {
    const r = await started({ clocks: CLOCKS, retainAlarms: true });
    await done(r.driver.setAlarm(0, NOW, true));
    await notified(r);
    const again = reinit(r);
    await start(again, true);
    expect(await notified(again)).toEqual([]);
    expect(await done(again.driver.readAlarm(0))).toEqual({ alarmTime: 0n, enabled: false });
  });
});
