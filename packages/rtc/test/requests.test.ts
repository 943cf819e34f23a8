// Device side of the requestq (spec 5.23.6 "Device Operation"): statuses, buffer sizes,
// reserved fields, flags, repeated control requests, clock ids.
import { describe, expect, it } from 'vitest';
import {
  FakeTimeSource,
  LinearHwCounter,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_TAI,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_COUNTER_ARM_VCT,
  VIRTIO_RTC_COUNTER_X86_TSC,
  VIRTIO_RTC_FLAG_ALARM_CAP,
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
  VIRTIO_RTC_S_ENODEV,
  VIRTIO_RTC_S_EOPNOTSUPP,
  VIRTIO_RTC_S_OK,
} from '../src/index.js';
import { NS, needsReset, raw, req, rig, started, TAI_2026, u16At, u64At, UTC_2026 } from './harness.js';

const cfg = () => req(8, [[0, 2, VIRTIO_RTC_REQ_CFG]]);
const clockReq = (type: number, id: number, size = 16) => req(size, [[0, 2, type], [8, 2, id]]);
const crossReq = (type: number, id: number, hw: number) => req(16, [[0, 2, type], [8, 2, id], [10, 1, hw]]);
const setAlarm = (id: number, time: bigint, flags: number) => req(24, [[0, 2, VIRTIO_RTC_REQ_SET_ALARM], [8, 8, time], [16, 2, id], [18, 1, flags]]);
const setEnabled = (id: number, flags: number) => req(16, [[0, 2, VIRTIO_RTC_REQ_SET_ALARM_ENABLED], [8, 2, id], [10, 1, flags]]);
const tsc = () => new LinearHwCounter({ hwCounter: VIRTIO_RTC_COUNTER_X86_TSC, hz: 3_000_000_000n });

describe('response status', () => {
  it('[rtc.dev.2] a request the device executed gets VIRTIO_RTC_S_OK', async () => {
    const r = await started();
    const res = await raw(r, cfg(), 16);
    expect(res.status).toBe(VIRTIO_RTC_S_OK);
    expect(u16At(res.resp, 8)).toBe(3);
    expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 1), 16)).status).toBe(VIRTIO_RTC_S_OK);
  });

  it('[rtc.dev.3] a request the device did not execute gets a status other than OK', async () => {
    const r = await started();
    for (const bad of [clockReq(VIRTIO_RTC_REQ_READ, 3), req(8, [[0, 2, 0x0777]]), clockReq(VIRTIO_RTC_REQ_READ, 0, 12)]) {
      expect((await raw(r, bad, 16)).status).not.toBe(VIRTIO_RTC_S_OK);
    }
  });

  it('[rtc.dev.4] a counter the device cannot relate to the guest (an implementation limitation) gets EOPNOTSUPP', async () => {
    const r = await started({ counters: [tsc()] });
    expect((await raw(r, crossReq(VIRTIO_RTC_REQ_READ_CROSS, 0, VIRTIO_RTC_COUNTER_ARM_VCT), 24)).status).toBe(VIRTIO_RTC_S_EOPNOTSUPP);
    expect((await raw(r, crossReq(VIRTIO_RTC_REQ_READ_CROSS, 0, VIRTIO_RTC_COUNTER_X86_TSC), 24)).status).toBe(VIRTIO_RTC_S_OK);
  });

  it('[rtc.dev.5] a msg_type the spec does not describe gets EOPNOTSUPP', async () => {
    const r = await started();
    for (const t of [0x0000, 0x0003, 0x0fff, 0x1006, 0x2000, 0xffff]) {
      const res = await raw(r, req(24, [[0, 2, t]]), 24);
      expect(res.status, `msg_type 0x${t.toString(16)}`).toBe(VIRTIO_RTC_S_EOPNOTSUPP);
      expect(res.len).toBe(8);
    }
    // Even when only the msg_type itself fits the device-readable buffer.
    expect((await raw(r, req(2, [[0, 2, 0x4242]]), 8)).status).toBe(VIRTIO_RTC_S_EOPNOTSUPP);
  });

  it('[rtc.dev.6] a hw_counter neither in the spec nor known to the implementation gets EOPNOTSUPP', async () => {
    const r = await started({ counters: [tsc(), new LinearHwCounter({ hwCounter: 0xf3, hz: 1000n })] });
    for (const hw of [2, 0x10, 0xef, 0xf0, 0xfe]) {
      expect((await raw(r, crossReq(VIRTIO_RTC_REQ_CROSS_CAP, 0, hw), 16)).status, `cross_cap ${hw}`).toBe(VIRTIO_RTC_S_EOPNOTSUPP);
      expect((await raw(r, crossReq(VIRTIO_RTC_REQ_READ_CROSS, 0, hw), 24)).status, `read_cross ${hw}`).toBe(VIRTIO_RTC_S_EOPNOTSUPP);
    }
    // The configured implementation-specific counter is known.
    expect((await raw(r, crossReq(VIRTIO_RTC_REQ_CROSS_CAP, 0, 0xf3), 16)).status).toBe(VIRTIO_RTC_S_OK);
    expect((await raw(r, crossReq(VIRTIO_RTC_REQ_READ_CROSS, 0, 0xf3), 24)).status).toBe(VIRTIO_RTC_S_OK);
  });

  it('[rtc.dev.7] a clock_id that identifies no clock gets ENODEV, for every request with a clock_id', async () => {
    const r = await started({ counters: [tsc()] });
    for (const id of [3, 4, 0xffff]) {
      expect((await raw(r, clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, id), 16)).status).toBe(VIRTIO_RTC_S_ENODEV);
      expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ, id), 16)).status).toBe(VIRTIO_RTC_S_ENODEV);
      expect((await raw(r, crossReq(VIRTIO_RTC_REQ_CROSS_CAP, id, 1), 16)).status).toBe(VIRTIO_RTC_S_ENODEV);
      expect((await raw(r, crossReq(VIRTIO_RTC_REQ_READ_CROSS, id, 1), 24)).status).toBe(VIRTIO_RTC_S_ENODEV);
      expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ_ALARM, id), 24)).status).toBe(VIRTIO_RTC_S_ENODEV);
      expect((await raw(r, setAlarm(id, 1n, 1), 8)).status).toBe(VIRTIO_RTC_S_ENODEV);
      expect((await raw(r, setEnabled(id, 1), 8)).status).toBe(VIRTIO_RTC_S_ENODEV);
    }
  });

  it('[rtc.dev.8] values the spec does not allow (reserved bytes, flag bits) get EINVAL, unless ENODEV or EOPNOTSUPP applies', async () => {
    const r = await started({ counters: [tsc()] });
    const withByte = (b: Uint8Array, at: number, v: number) => {
      const c = b.slice();
      c[at] = v;
      return c;
    };
    expect((await raw(r, withByte(cfg(), 5, 1), 16)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, withByte(clockReq(VIRTIO_RTC_REQ_READ, 0), 12, 0x80), 16)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, withByte(crossReq(VIRTIO_RTC_REQ_READ_CROSS, 0, 1), 11, 1), 24)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, setAlarm(0, 5n, 0x03), 8)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, setEnabled(0, 0x80), 8)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, withByte(setAlarm(0, 5n, 1), 23, 9), 8)).status).toBe(VIRTIO_RTC_S_EINVAL);
    // The rejected SET_ALARM changed nothing.
    expect(r.device.alarm(0)).toEqual({ time: 0n, enabled: false });
    // ENODEV and EOPNOTSUPP take precedence.
    expect((await raw(r, withByte(clockReq(VIRTIO_RTC_REQ_READ, 9), 12, 1), 16)).status).toBe(VIRTIO_RTC_S_ENODEV);
    expect((await raw(r, withByte(crossReq(VIRTIO_RTC_REQ_CROSS_CAP, 0, 7), 12, 1), 16)).status).toBe(VIRTIO_RTC_S_EOPNOTSUPP);
  });

  it('[rtc.dev.9] a request that does not fit the device-readable buffer gets EINVAL', async () => {
    const r = await started();
    expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 0).subarray(0, 15), 16)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, setAlarm(0, 1n, 0).subarray(0, 16), 8)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, cfg().subarray(0, 7), 16)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, cfg().subarray(0, 1), 16)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect((await raw(r, new Uint8Array(0), 16)).status).toBe(VIRTIO_RTC_S_EINVAL);
    expect(r.device.alarm(0)).toEqual({ time: 0n, enabled: false });
  });

  it('[rtc.dev.10] a response that does not fit the device-writable buffer gets EINVAL when the status fits', async () => {
    const r = await started({ counters: [tsc()] });
    for (const [request, fits] of [
      [crossReq(VIRTIO_RTC_REQ_READ_CROSS, 0, 1), 23],
      [clockReq(VIRTIO_RTC_REQ_READ, 0), 15],
      [cfg(), 9],
      [setAlarm(0, 1n, 0), 1],
    ] as const) {
      const res = await raw(r, request, fits);
      expect(res.status).toBe(VIRTIO_RTC_S_EINVAL);
      expect(res.len).toBeLessThanOrEqual(fits);
      expect(res.resp[fits]).toBe(0xaa);
    }
    expect(needsReset(r)).toBe(false);
  });

  it('[rtc.dev.11] the status is not written when it does not fit: no device-writable byte at all', async () => {
    const r = await started();
    const res = await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 0), 0);
    expect(res.len).toBe(0);
    expect(res.resp.every((b) => b === 0xaa)).toBe(true);
    expect(needsReset(r)).toBe(false);
    expect((await raw(r, cfg(), 16)).status).toBe(VIRTIO_RTC_S_OK);
  });

  it('[rtc.dev.12] a failure not caused by the driver (the time source fails, a reading before its epoch) gets EIO', async () => {
    let broken = false;
    const clock = new FakeTimeSource({ taiNs: TAI_2026 });
    const source = {
      taiNs: () => {
        if (broken) throw new Error('clock unplugged');
        return clock.taiNs();
      },
      monotonicNs: () => clock.monotonicNs(),
    };
    const r = await started({ source, timer: clock });
    broken = true;
    expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 0), 16)).status).toBe(VIRTIO_RTC_S_EIO);
    expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 2), 16)).status).toBe(VIRTIO_RTC_S_OK);
    broken = false;
    clock.setTai(10n * NS);
    // UTC = TAI - 37 s is before 1970: no le64 reading exists.
    expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 0), 16)).status).toBe(VIRTIO_RTC_S_EIO);
    expect((await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 1), 16)).status).toBe(VIRTIO_RTC_S_OK);
    expect(needsReset(r)).toBe(false);
  });
});

describe('buffer sizes and response fields', () => {
  it('[rtc.dev.13] bytes past the request in the device-readable buffer are ignored', async () => {
    const r = await started();
    const long = new Uint8Array(64).fill(0x5a);
    long.set(clockReq(VIRTIO_RTC_REQ_READ, 1));
    const res = await raw(r, long, 16);
    expect(res.status).toBe(VIRTIO_RTC_S_OK);
    expect(u64At(res.resp, 8)).toBe(TAI_2026);
    // And split over two descriptors.
    expect(u64At((await raw(r, long, 16, 3)).resp, 8)).toBe(TAI_2026);
  });

  it('[rtc.dev.14] bytes past the response in the device-writable buffer are left alone', async () => {
    const r = await started();
    const res = await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 0), 64);
    expect(res.status).toBe(VIRTIO_RTC_S_OK);
    expect(res.len).toBe(16);
    expect(u64At(res.resp, 8)).toBe(UTC_2026 * NS);
    expect(res.resp.subarray(16, 64).every((b) => b === 0xaa)).toBe(true);
    const err = await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 7), 64);
    expect(err.len).toBe(8);
    expect(err.resp.subarray(8, 64).every((b) => b === 0xaa)).toBe(true);
  });

  it('[rtc.dev.15] reserved bytes of every response are written as zero', async () => {
    const r = await started({ counters: [tsc()] });
    const zero = (b: Uint8Array, from: number, to: number) => expect([...b.subarray(from, to)]).toEqual(new Array(to - from).fill(0));
    let res = await raw(r, cfg(), 16);
    zero(res.resp, 1, 8);
    zero(res.resp, 10, 16);
    res = await raw(r, clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, 0), 16);
    zero(res.resp, 1, 8);
    zero(res.resp, 11, 16);
    res = await raw(r, crossReq(VIRTIO_RTC_REQ_CROSS_CAP, 0, 1), 16);
    zero(res.resp, 1, 8);
    zero(res.resp, 9, 16);
    res = await raw(r, clockReq(VIRTIO_RTC_REQ_READ_ALARM, 0), 24);
    zero(res.resp, 1, 8);
    zero(res.resp, 17, 24);
    res = await raw(r, setAlarm(0, 1n, 0), 8);
    zero(res.resp, 1, 8);
    res = await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 9), 16);
    expect(res.status).toBe(VIRTIO_RTC_S_ENODEV);
    zero(res.resp, 1, 8);
    // A truncated head: the reserved bytes that fit are zero too.
    res = await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 0), 5);
    zero(res.resp, 1, 5);
  });

  it('[rtc.dev.16] VIRTIO_RTC_FLAG_ALARM_CAP is never set when VIRTIO_RTC_F_ALARM was not negotiated', async () => {
    const r = await started({}, { alarm: false });
    const res = await raw(r, clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, 0), 16);
    expect(res.status).toBe(VIRTIO_RTC_S_OK);
    expect(res.resp[10]).toBe(0);
    const withAlarm = await started();
    expect((await raw(withAlarm, clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, 0), 16)).resp[10]).toBe(VIRTIO_RTC_FLAG_ALARM_CAP);
  });
});

describe('control requests repeat', () => {
  const controls = () => [cfg(), clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, 0), clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, 2), crossReq(VIRTIO_RTC_REQ_CROSS_CAP, 0, 1), crossReq(VIRTIO_RTC_REQ_CROSS_CAP, 1, 0)];

  async function answers(r: Awaited<ReturnType<typeof started>>) {
    const out: number[][] = [];
    for (const c of controls()) {
      const res = await raw(r, c, 16);
      out.push([res.len, ...res.resp.subarray(0, 16)]);
    }
    return out;
  }

  it('[rtc.dev.17] CFG, CLOCK_CAP and CROSS_CAP get the same response every time while the device is live', async () => {
    const r = await started({ counters: [tsc()] });
    const first = await answers(r);
    r.clock.advance(3600n * NS);
    await raw(r, setAlarm(0, TAI_2026 * 2n, 1), 8);
    await raw(r, clockReq(VIRTIO_RTC_REQ_READ, 0), 16);
    expect(await answers(r)).toEqual(first);
    expect(first[1][0 + 1]).toBe(VIRTIO_RTC_S_OK);
  });

  it('[rtc.dev.18] the same features give the same control responses after a device reset', async () => {
    const clock = new FakeTimeSource({ taiNs: TAI_2026 });
    const r = await started({ counters: [tsc()] }, {}, clock);
    const first = await answers(r);
    r.driver.reset();
    const { RtcDriver } = await import('../src/index.js');
    const again = RtcDriver.initialize(r.transport, { memory: r.memory, allocator: r.allocator, ringFeatures: 0n });
    r.transport.onInterrupt = () => queueMicrotask(() => again.handleInterrupt());
    const p = again.start();
    await new Promise((res) => setTimeout(res, 0));
    await p;
    const r2 = { ...r, driver: again };
    expect(await answers(r2)).toEqual(first);
  });

  it('[rtc.dev.19] clock ids are the dense range 0..num_clocks-1', async () => {
    const clocks = [{ type: VIRTIO_RTC_CLOCK_TAI }, { type: VIRTIO_RTC_CLOCK_UTC }, { type: VIRTIO_RTC_CLOCK_MONOTONIC }, { type: VIRTIO_RTC_CLOCK_UTC }];
    const r = await started({ clocks });
    const n = u16At((await raw(r, cfg(), 16)).resp, 8);
    expect(n).toBe(4);
    for (let id = 0; id < n; id++) {
      const res = await raw(r, clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, id), 16);
      expect(res.status).toBe(VIRTIO_RTC_S_OK);
      expect(res.resp[8]).toBe(clocks[id].type);
    }
    expect((await raw(r, clockReq(VIRTIO_RTC_REQ_CLOCK_CAP, n), 16)).status).toBe(VIRTIO_RTC_S_ENODEV);
    const none = rig({ clocks: [] });
    expect(u16At((await raw(none, cfg(), 16)).resp, 8)).toBe(0);
    expect((await raw(none, clockReq(VIRTIO_RTC_REQ_READ, 0), 16)).status).toBe(VIRTIO_RTC_S_ENODEV);
  });
});
