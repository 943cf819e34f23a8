// The RTC device over the real MMIO transport (register encoding, interrupt line).
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { FakeTimeSource, RtcDevice, RtcDriver, type RtcAlarmNotification } from '../src/index.js';
import { done, NS, settle, TAI_2026, UTC_2026, VARIANTS } from './harness.js';

describe.each(VARIANTS)('rtc over MMIO ($name)', ({ features }) => {
  it('clocks, reads and an alarm over MMIO', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const clock = new FakeTimeSource({ taiNs: TAI_2026 });
    const seen: RtcAlarmNotification[] = [];
    let driver: RtcDriver | undefined;
    const mmio = new MmioTransport(new RtcDevice({ source: clock, timer: clock }), { memory, interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()) });
    driver = RtcDriver.initialize(new MmioDriverTransport(mmio), { memory, allocator: new FreeListAllocator(0x1000, 0xff000), ringFeatures: features, onAlarm: (a) => seen.push(a) });
    const clocks = await done(driver.start());
    expect(clocks.map((c) => c.type)).toEqual([0, 1, 2]);
    expect(await done(driver.read(0))).toBe(UTC_2026 * NS);
    await done(driver.setAlarm(0, UTC_2026 * NS + 60n * NS, true));
    clock.advance(60n * NS);
    await settle();
    await settle();
    expect(seen).toEqual([{ clockId: 0, clockReading: UTC_2026 * NS + 60n * NS }]);
  });
});
