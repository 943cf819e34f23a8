// Our driver against our device over every ring layout: discovery, reads, cross-timestamps,
// alarms, more requests than ring slots, reset.
import { describe, expect, it } from 'vitest';
import {
  LinearHwCounter,
  RtcDriverError,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_TAI,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_CLOCK_UTC_SMEARED,
  VIRTIO_RTC_COUNTER_X86_TSC,
  VIRTIO_RTC_SMEAR_NOON_LINEAR,
  type RtcAlarmNotification,
} from '../src/index.js';
import { done, NS, settle, started, TAI_2026, UTC_2026, VARIANTS } from './harness.js';

const CLOCKS = [
  { type: VIRTIO_RTC_CLOCK_UTC, alarm: true },
  { type: VIRTIO_RTC_CLOCK_TAI },
  { type: VIRTIO_RTC_CLOCK_MONOTONIC, alarm: true },
  { type: VIRTIO_RTC_CLOCK_UTC_SMEARED, smearing: VIRTIO_RTC_SMEAR_NOON_LINEAR },
];

describe.each(VARIANTS)('RTC round trip over $name', ({ features }) => {
  it('discovers the clocks, reads them and cross-timestamps them', async () => {
    const r = await started({ clocks: CLOCKS, counters: [new LinearHwCounter({ hwCounter: VIRTIO_RTC_COUNTER_X86_TSC, hz: 1_000_000_000n })] }, { ringFeatures: features });
    expect(r.driver.clocks.map((c) => [c.type, c.leapSecondSmearing, c.alarm])).toEqual([
      [VIRTIO_RTC_CLOCK_UTC, 0, true],
      [VIRTIO_RTC_CLOCK_TAI, 0, false],
      [VIRTIO_RTC_CLOCK_MONOTONIC, 0, true],
      [VIRTIO_RTC_CLOCK_UTC_SMEARED, VIRTIO_RTC_SMEAR_NOON_LINEAR, false],
    ]);
    const readings = await done(Promise.all([0, 1, 2, 3].map((id) => r.driver.read(id))));
    expect(readings).toEqual([UTC_2026 * NS, TAI_2026, 5n * NS, UTC_2026 * NS]);
    expect(await done(r.driver.crossCap(1, VIRTIO_RTC_COUNTER_X86_TSC))).toBe(true);
    expect(await done(r.driver.readCross(1, VIRTIO_RTC_COUNTER_X86_TSC))).toEqual({ clockReading: TAI_2026, counterCycles: 5n * NS });
  });

  it('delivers alarms with the clock read after them', async () => {
    const seen: RtcAlarmNotification[] = [];
    const r = await started({ clocks: CLOCKS }, { ringFeatures: features, onAlarm: (a) => seen.push(a) });
    await done(r.driver.setAlarm(2, 6n * NS, true));
    await done(r.driver.setAlarm(0, UTC_2026 * NS + 2n * NS, true));
    r.clock.advance(NS);
    await settle();
    await settle();
    expect(seen).toEqual([{ clockId: 2, clockReading: 6n * NS }]);
    r.clock.advance(NS);
    await settle();
    await settle();
    expect(seen.at(-1)).toEqual({ clockId: 0, clockReading: UTC_2026 * NS + 2n * NS });
    // Many more expirations than alarmq buffers: every one arrives as buffers come back.
    for (let i = 0; i < 20; i++) await done(r.driver.setAlarmEnabled(i % 2 === 0 ? 0 : 2, true));
    await settle();
    await settle();
    expect(seen.length).toBe(22);
  });

  it('serves more requests than the ring has slots, in order', async () => {
    const r = await started({ clocks: CLOCKS, queueSize: 4 }, { ringFeatures: features });
    const reads = Array.from({ length: 50 }, (_, i) => r.driver.read(i % 4));
    expect(r.driver.pending).toBeGreaterThan(4);
    for (let i = 0; i < 10; i++) await settle();
    const values = await Promise.all(reads);
    expect(values.slice(0, 4)).toEqual([UTC_2026 * NS, TAI_2026, 5n * NS, UTC_2026 * NS]);
    expect(r.driver.pending).toBe(0);
  });

  it('a reset rejects pending requests and later ones', async () => {
    const r = await started({ clocks: CLOCKS }, { ringFeatures: features });
    const p = r.driver.read(0);
    r.driver.reset();
    await expect(p).rejects.toThrow('device reset');
    await expect(r.driver.read(0)).rejects.toBeInstanceOf(RtcDriverError);
  });
});

describe('device lifecycle', () => {
  it('a suspended device takes no request; on resume it answers them, and owed notifications go out', async () => {
    const r = await started({ clocks: CLOCKS });
    const served = r.device.stats.requests;
    r.device.suspend?.();
    const p = r.driver.read(1);
    const alarm = r.driver.setAlarm(0, 0n, true);
    await settle();
    expect(r.driver.pending).toBe(2);
    expect(r.device.stats.requests).toBe(served);
    r.device.resume?.();
    expect(await done(p)).toBe(TAI_2026);
    await alarm;
    await settle();
    expect(r.driver.takeAlarms().map((a) => a.clockId)).toEqual([0]);
  });

  it('a reset gives the alarmq buffers back to the allocator', async () => {
    const r = await started({ clocks: CLOCKS });
    const before = r.allocator.freeBytes;
    await done(r.driver.read(0));
    expect(r.allocator.freeBytes).toBe(before);
    r.driver.reset();
    // The alarmq buffers (8 notifications) are free again; the rings stay with the old queues.
    expect(r.allocator.freeBytes).toBe(before + 8 * 16);
  });
});
