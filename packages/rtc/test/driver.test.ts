// Driver side (spec 5.23.6 driver requirements): what our driver places in buffers and what
// it believes of the device's answers.
import { describe, expect, it } from 'vitest';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import {
  RTC_MESSAGE_SIZES,
  RtcDriver,
  RtcStatusError,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_COUNTER_ARM_VCT,
  VIRTIO_RTC_COUNTER_INVALID,
  VIRTIO_RTC_COUNTER_X86_TSC,
  VIRTIO_RTC_FLAG_ALARM_ENABLED,
  VIRTIO_RTC_NOTIF_ALARM,
  VIRTIO_RTC_NOTIF_ALARM_SIZE,
  VIRTIO_RTC_REQ_CFG,
  VIRTIO_RTC_REQ_CLOCK_CAP,
  VIRTIO_RTC_REQ_CROSS_CAP,
  VIRTIO_RTC_REQ_READ,
  VIRTIO_RTC_REQ_READ_ALARM,
  VIRTIO_RTC_REQ_READ_CROSS,
  VIRTIO_RTC_REQ_SET_ALARM,
  VIRTIO_RTC_REQ_SET_ALARM_ENABLED,
  VIRTIO_RTC_S_EINVAL,
  VIRTIO_RTC_S_EIO,
  LinearHwCounter,
} from '../src/index.js';
import { done, MEM_SIZE, NS, settle, started, u16At, u64At, UTC_2026, type Rig } from './harness.js';
import { ScriptedRtcDevice, type Script } from './scripted-device.js';

const CLOCKS = [{ type: VIRTIO_RTC_CLOCK_UTC, alarm: true }, { type: VIRTIO_RTC_CLOCK_MONOTONIC, alarm: true }];

/** Our driver against a scripted device. */
function scripted(script: Script, alarm = true) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new ScriptedRtcDevice(script, alarm);
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const driver = RtcDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, MEM_SIZE - 0x1000) });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { device, driver, memory };
}

/** A response: status, then fields at offsets. */
function resp(size: number, status: number, fields: [number, 1 | 2 | 8, number | bigint][] = [], fill = 0): Uint8Array {
  const b = new Uint8Array(size).fill(fill);
  const v = new DataView(b.buffer);
  b[0] = status;
  for (const [at, w, val] of fields) {
    if (w === 1) v.setUint8(at, Number(val));
    else if (w === 2) v.setUint16(at, Number(val), true);
    else v.setBigUint64(at, BigInt(val), true);
  }
  return b;
}

/** Every request our driver placed on the requestq, as bytes, with the chain's writable length. */
function requests(r: Rig): { bytes: Uint8Array; writable: number; msgType: number }[] {
  return r.popped.filter((c) => c.readableLength > 0).map((c) => ({ bytes: c.bytes, writable: c.writableLength, msgType: u16At(c.bytes, 0) }));
}

/** Exercises every request type once. */
async function everything(r: Rig): Promise<void> {
  await done(r.driver.read(0));
  await done(r.driver.crossCap(0, VIRTIO_RTC_COUNTER_X86_TSC));
  await done(r.driver.readCross(0, VIRTIO_RTC_COUNTER_X86_TSC));
  await done(r.driver.readAlarm(1));
  await done(r.driver.setAlarm(1, 0xffff_ffff_ffff_fffen, true));
  await done(r.driver.setAlarmEnabled(1, false));
  await done(r.driver.setAlarm(0, 1n, false));
}

describe('requests our driver places', () => {
  it('[rtc.drv.2] every reserved byte of a request is zero, even in reused, dirty memory', async () => {
    const r = await started({ clocks: CLOCKS, counters: [new LinearHwCounter({ hwCounter: 1, hz: 1000n })] });
    // Free guest memory full of old data: the driver must clear what it reuses.
    const mem = r.memory.view(0, MEM_SIZE);
    for (let a = 0x40000; a < MEM_SIZE / 2 - 0x1000; a++) mem[a] = 0xff;
    await everything(r);
    const reserved: Record<number, [number, number][]> = {
      [VIRTIO_RTC_REQ_CFG]: [[2, 8]],
      [VIRTIO_RTC_REQ_CLOCK_CAP]: [[2, 8], [10, 16]],
      [VIRTIO_RTC_REQ_CROSS_CAP]: [[2, 8], [11, 16]],
      [VIRTIO_RTC_REQ_READ]: [[2, 8], [10, 16]],
      [VIRTIO_RTC_REQ_READ_CROSS]: [[2, 8], [11, 16]],
      [VIRTIO_RTC_REQ_READ_ALARM]: [[2, 8], [10, 16]],
      [VIRTIO_RTC_REQ_SET_ALARM]: [[2, 8], [19, 24]],
      [VIRTIO_RTC_REQ_SET_ALARM_ENABLED]: [[2, 8], [11, 16]],
    };
    const seen = new Set<number>();
    for (const q of requests(r)) {
      seen.add(q.msgType);
      for (const [from, to] of reserved[q.msgType]) expect([...q.bytes.subarray(from, to)], `0x${q.msgType.toString(16)}`).toEqual(new Array(to - from).fill(0));
    }
    expect(seen.size).toBe(8);
  });

  it('[rtc.drv.3] flags carry only VIRTIO_RTC_FLAG_ALARM_ENABLED, and alarm messages are never sent without VIRTIO_RTC_F_ALARM', async () => {
    const r = await started({ clocks: CLOCKS, counters: [new LinearHwCounter({ hwCounter: 1, hz: 1000n })] });
    await everything(r);
    const flags = requests(r).flatMap((q) => (q.msgType === VIRTIO_RTC_REQ_SET_ALARM ? [q.bytes[18]] : q.msgType === VIRTIO_RTC_REQ_SET_ALARM_ENABLED ? [q.bytes[10]] : []));
    expect(flags).toContain(VIRTIO_RTC_FLAG_ALARM_ENABLED);
    for (const f of flags) expect(f & ~VIRTIO_RTC_FLAG_ALARM_ENABLED).toBe(0);
    const plain = await started({ clocks: CLOCKS }, { alarm: false });
    await expect(plain.driver.setAlarm(0, 1n, true)).rejects.toThrow('VIRTIO_RTC_F_ALARM');
    await expect(plain.driver.setAlarmEnabled(0, true)).rejects.toThrow('VIRTIO_RTC_F_ALARM');
    await expect(plain.driver.readAlarm(0)).rejects.toThrow('VIRTIO_RTC_F_ALARM');
    await settle();
    const types = requests(plain).map((q) => q.msgType);
    expect(types).not.toContain(VIRTIO_RTC_REQ_SET_ALARM);
    expect(types).not.toContain(VIRTIO_RTC_REQ_SET_ALARM_ENABLED);
    expect(types).not.toContain(VIRTIO_RTC_REQ_READ_ALARM);
  });

  it('[rtc.drv.6] the device-writable buffer of every request holds the whole response', async () => {
    const r = await started({ clocks: CLOCKS, counters: [new LinearHwCounter({ hwCounter: 1, hz: 1000n })] });
    await everything(r);
    for (const q of requests(r)) expect(q.writable).toBeGreaterThanOrEqual(RTC_MESSAGE_SIZES.get(q.msgType)!.response);
  });

  it('[rtc.drv.7] CROSS_CAP is sent only with a hw_counter the spec defines or 0xF0..0xFE', async () => {
    const r = await started({ counters: [0xf0, 0xfe].map((hwCounter) => new LinearHwCounter({ hwCounter, hz: 1000n })) });
    for (const hw of [2, 0x10, 0xef, 0x100, -1, 1.5]) expect(() => r.driver.crossCap(0, hw)).toThrow(RangeError);
    for (const hw of [VIRTIO_RTC_COUNTER_ARM_VCT, VIRTIO_RTC_COUNTER_X86_TSC, VIRTIO_RTC_COUNTER_INVALID]) expect(await done(r.driver.crossCap(0, hw))).toBe(false);
    for (const hw of [0xf0, 0xfe]) expect(await done(r.driver.crossCap(0, hw))).toBe(true);
    expect(requests(r).filter((q) => q.msgType === VIRTIO_RTC_REQ_CROSS_CAP).map((q) => q.bytes[10])).toEqual([0, 1, 0xff, 0xf0, 0xfe]);
  });

  it('[rtc.drv.8] READ_CROSS is sent only with a hw_counter the spec defines or 0xF0..0xFE', async () => {
    const r = await started({ counters: [new LinearHwCounter({ hwCounter: 0xf7, hz: 1000n })] });
    for (const hw of [3, 0x80, 0xef, 0x1ff]) expect(() => r.driver.readCross(0, hw)).toThrow(RangeError);
    await done(r.driver.readCross(0, 0xf7));
    expect(requests(r).filter((q) => q.msgType === VIRTIO_RTC_REQ_READ_CROSS).map((q) => q.bytes[10])).toEqual([0xf7]);
  });

  it('[rtc.drv.9] SET_ALARM carries the alarm time in nanoseconds', async () => {
    const r = await started({ clocks: CLOCKS });
    const at = UTC_2026 * NS + 1_500_000_000n;
    await done(r.driver.setAlarm(0, at, true));
    const sent = requests(r).filter((q) => q.msgType === VIRTIO_RTC_REQ_SET_ALARM).at(-1)!;
    expect(u64At(sent.bytes, 8)).toBe(at);
    r.clock.advance(1_499_999_999n);
    r.device.checkAlarms();
    await settle();
    expect(r.driver.takeAlarms()).toEqual([]);
    r.clock.advance(1n);
    r.device.checkAlarms();
    await settle();
    await settle();
    expect(r.driver.takeAlarms().map((a) => a.clockId)).toEqual([0]);
    expect(() => r.driver.setAlarm(0, -1n, true)).toThrow(RangeError);
    expect(() => r.driver.setAlarm(0, 1n << 64n, true)).toThrow(RangeError);
  });
});

describe('answers our driver reads', () => {
  it('[rtc.drv.1] response fields are not interpreted unless the status is VIRTIO_RTC_S_OK', async () => {
    const s = scripted((q) => (u16At(q, 0) === VIRTIO_RTC_REQ_READ ? resp(16, VIRTIO_RTC_S_EIO, [[8, 8, 42n]]) : resp(16, VIRTIO_RTC_S_EINVAL, [[8, 2, 7]])));
    await expect(done(s.driver.read(0))).rejects.toEqual(new RtcStatusError(VIRTIO_RTC_S_EIO, VIRTIO_RTC_REQ_READ));
    await expect(done(s.driver.numClocks())).rejects.toMatchObject({ status: VIRTIO_RTC_S_EINVAL });
    s.device.script = () => resp(16, 0, [[8, 8, 42n]]);
    expect(await done(s.driver.read(0))).toBe(42n);
  });

  it('[rtc.drv.4] reserved bytes of responses and notifications are ignored', async () => {
    const s = scripted((q) => {
      switch (u16At(q, 0)) {
        case VIRTIO_RTC_REQ_CFG:
          return resp(16, 0, [[8, 2, 2]], 0xee);
        case VIRTIO_RTC_REQ_CLOCK_CAP:
          return resp(16, 0, [[8, 1, 0], [9, 1, 0], [10, 1, 1]], 0xee);
        case VIRTIO_RTC_REQ_READ_ALARM:
          return resp(24, 0, [[8, 8, 5n], [16, 1, 1]], 0xee);
        default:
          return resp(24, 0, [], 0xee);
      }
    });
    const p = s.driver.start({ clearAlarms: false });
    await settle();
    expect(await p).toEqual([
      { id: 0, type: 0, leapSecondSmearing: 0, alarm: true },
      { id: 1, type: 0, leapSecondSmearing: 0, alarm: true },
    ]);
    expect(await done(s.driver.readAlarm(0))).toEqual({ alarmTime: 5n, enabled: true });
    s.device.script = () => resp(16, 0, [[8, 8, 99n]]);
    const n = new Uint8Array(VIRTIO_RTC_NOTIF_ALARM_SIZE).fill(0xee);
    new DataView(n.buffer).setUint16(0, VIRTIO_RTC_NOTIF_ALARM, true);
    new DataView(n.buffer).setUint16(8, 1, true);
    expect(s.device.notify(n)).toBe(true);
    await settle();
    await settle();
    expect(s.driver.takeAlarms()).toEqual([{ clockId: 1, clockReading: 99n }]);
  });

  it('[rtc.drv.5] only the flag bits the negotiated features allow are interpreted', async () => {
    const all = (size: number) => resp(size, 0, [[8, 2, 1]], 0xff);
    const noAlarm = scripted((q) => {
      const t = u16At(q, 0);
      if (t === VIRTIO_RTC_REQ_CFG) return resp(16, 0, [[8, 2, 1]]);
      if (t === VIRTIO_RTC_REQ_CLOCK_CAP) return resp(16, 0, [[8, 1, 0], [9, 1, 0], [10, 1, 0xff]]);
      return all(16);
    }, false);
    const clocks = await done(noAlarm.driver.start());
    expect(clocks[0].alarm).toBe(false);
    noAlarm.device.script = () => resp(16, 0, [[8, 1, 0xfe]]);
    expect(await done(noAlarm.driver.crossCap(0, 1))).toBe(false);
    const withAlarm = scripted(() => resp(24, 0, [[8, 8, 3n], [16, 1, 0xfe]]));
    expect(await done(withAlarm.driver.readAlarm(0))).toEqual({ alarmTime: 3n, enabled: false });
  });

  it('a short response or none at all rejects instead of reading stale bytes', async () => {
    const s = scripted(() => resp(12, 0, [[8, 2, 1]]));
    await expect(done(s.driver.read(0))).rejects.toThrow('12-byte response');
    s.device.script = () => new Uint8Array(0);
    await expect(done(s.driver.read(0))).rejects.toThrow('without a status');
  });
});

describe('alarmq', () => {
  it('[rtc.drv.10] [rtc.drv.11] after start the alarmq holds buffers, each a whole device-writable notification', async () => {
    const r = await started({ clocks: CLOCKS }, { alarmBuffers: 3 });
    for (const id of [0, 1, 0]) await done(r.driver.setAlarm(id, 0n, true));
    const alarmChains = r.popped.filter((c) => c.readableLength === 0);
    expect(alarmChains.length).toBe(3);
    for (const c of alarmChains) {
      expect(c.readable.length).toBe(0);
      expect(c.writableLength).toBeGreaterThanOrEqual(VIRTIO_RTC_NOTIF_ALARM_SIZE);
    }
    await settle();
    await settle();
    expect(r.driver.takeAlarms().map((a) => a.clockId)).toEqual([0, 1, 0]);
  });

  it('[rtc.drv.12] on a notification the driver reads the clock instead of assuming the alarm time', async () => {
    const seen: { clockId: number; clockReading: bigint | undefined }[] = [];
    const r = await started({ clocks: CLOCKS }, { onAlarm: (a) => seen.push(a) });
    await done(r.driver.setAlarm(0, 1n, true));
    await settle();
    expect(seen).toEqual([{ clockId: 0, clockReading: UTC_2026 * NS }]);
    expect(requests(r).at(-1)!.msgType).toBe(VIRTIO_RTC_REQ_READ);
  });
});
