// Read requests (spec 5.23.6.3): order, units, monotonic clocks, cross-timestamps.
import { describe, expect, it } from 'vitest';
import type { DriverQueue } from '@virtio/ring';
import {
  FakeTimeSource,
  LinearHwCounter,
  RtcStatusError,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_TAI,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED,
  VIRTIO_RTC_CLOCK_UTC_SMEARED,
  VIRTIO_RTC_COUNTER_ARM_VCT,
  VIRTIO_RTC_COUNTER_INVALID,
  VIRTIO_RTC_COUNTER_X86_TSC,
  VIRTIO_RTC_REQ_READ,
  VIRTIO_RTC_S_EIO,
  VIRTIO_RTC_S_EOPNOTSUPP,
  VIRTIO_RTC_SMEAR_UTC_SLS,
  type RtcHwCounter,
  type RtcTimeSource,
} from '../src/index.js';
import { done, NS, RAW, req, settle, started, TAI_2026, u64At, VARIANTS } from './harness.js';

const ALL_TYPES = [
  { type: VIRTIO_RTC_CLOCK_UTC },
  { type: VIRTIO_RTC_CLOCK_TAI },
  { type: VIRTIO_RTC_CLOCK_MONOTONIC },
  { type: VIRTIO_RTC_CLOCK_UTC_SMEARED, smearing: VIRTIO_RTC_SMEAR_UTC_SLS },
  { type: VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED },
];
const tsc = (offset = 0n) => new LinearHwCounter({ hwCounter: VIRTIO_RTC_COUNTER_X86_TSC, hz: 2_500_000_000n, offset });

/** A time source that moves 1 µs forward on every TAI read, to tell readings apart by when they were taken. */
function ticking(): RtcTimeSource & { reads: number } {
  const s = {
    reads: 0,
    tai: TAI_2026,
    taiNs() {
      s.reads++;
      s.tai += 1000n;
      return s.tai;
    },
    monotonicNs: () => 0n,
  };
  return s;
}

describe.each(VARIANTS)('read requests over $name', ({ features }) => {
  it('[rtc.dev.44] readings of one clock are taken in the order the driver made the requests available', async () => {
    const source = ticking();
    const r = await started({ source, timer: new FakeTimeSource() }, { ringFeatures: features });
    const reads = Array.from({ length: 12 }, () => r.driver.read(1));
    await settle();
    const values = await Promise.all(reads);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
  });

  it('[rtc.dev.45] read requests of a clock are used in the order they were made available', async () => {
    const r = await started({}, { ringFeatures: features });
    const q = r.driver.device.queues[0] as DriverQueue<unknown>;
    r.transport.onInterrupt = undefined;
    const tokens = Array.from({ length: 8 }, (_, i) => i);
    for (const t of tokens) {
      r.memory.write(RAW + t * 64, req(16, [[0, 2, VIRTIO_RTC_REQ_READ], [8, 2, t % 2]]));
      expect(q.add([{ addr: RAW + t * 64, len: 16 }], [{ addr: RAW + t * 64 + 32, len: 16 }], t)).toBe(true);
    }
    r.driver.device.kick(0);
    const order: unknown[] = [];
    for (let u = q.reap(); u !== null; u = q.reap()) order.push(u.token);
    expect(order).toEqual(tokens);
  });
});

describe('read requests', () => {
  it('[rtc.dev.46] a monotonic clock never reads less than before, even when the time source jumps back', async () => {
    let mono = 50n * NS;
    const fake = new FakeTimeSource({ taiNs: TAI_2026 });
    const r = await started({ source: { taiNs: () => fake.taiNs(), monotonicNs: () => mono }, timer: fake });
    const a = await done(r.driver.read(2));
    mono = 10n * NS;
    const b = await done(r.driver.read(2));
    expect(b).toBeGreaterThanOrEqual(a);
    mono = 60n * NS;
    expect(await done(r.driver.read(2))).toBe(60n * NS);
  });

  it('[rtc.dev.47] [rtc.dev.43] every clock, of every type, can be read', async () => {
    const r = await started({ clocks: ALL_TYPES });
    for (let round = 0; round < 3; round++) {
      for (let id = 0; id < ALL_TYPES.length; id++) expect(typeof (await done(r.driver.read(id)))).toBe('bigint');
      r.clock.advance(86_400n * NS);
    }
  });

  it('[rtc.dev.48] readings are in nanoseconds', async () => {
    const r = await started({ clocks: ALL_TYPES });
    const before = await Promise.all(ALL_TYPES.map((_, id) => done(r.driver.read(id))));
    r.clock.advance(1_500_000_001n);
    const after = await Promise.all(ALL_TYPES.map((_, id) => done(r.driver.read(id))));
    for (let id = 0; id < ALL_TYPES.length; id++) expect(after[id] - before[id]).toBe(1_500_000_001n);
  });

  it('[rtc.dev.49] the reading is taken after the request was made available, not before', async () => {
    const r = await started();
    expect(await done(r.driver.read(1))).toBe(TAI_2026);
    const q = r.driver.device.queues[0] as DriverQueue<unknown>;
    r.transport.onInterrupt = undefined;
    r.memory.write(RAW, req(16, [[0, 2, VIRTIO_RTC_REQ_READ], [8, 2, 1]]));
    q.add([{ addr: RAW, len: 16 }], [{ addr: RAW + 32, len: 16 }], 'late');
    q.kick();
    r.clock.advance(7n * NS);
    r.transport.notify(0);
    expect(q.reap()?.token).toBe('late');
    const resp = new Uint8Array(16);
    r.memory.read(RAW + 32, resp);
    expect(u64At(resp, 8)).toBe(TAI_2026 + 7n * NS);
  });
});

describe('cross-timestamps', () => {
  it('[rtc.dev.42] CROSS_CAP sets VIRTIO_RTC_FLAG_CROSS_CAP exactly for the pairs READ_CROSS serves', async () => {
    const r = await started({ clocks: ALL_TYPES, counters: [tsc(), new LinearHwCounter({ hwCounter: 0xf1, hz: 1000n })] });
    for (let id = 0; id < ALL_TYPES.length; id++) {
      for (const hw of [VIRTIO_RTC_COUNTER_ARM_VCT, VIRTIO_RTC_COUNTER_X86_TSC, VIRTIO_RTC_COUNTER_INVALID, 0xf1]) {
        const cap = await done(r.driver.crossCap(id, hw));
        const ok = await done(r.driver.readCross(id, hw).then(() => true, () => false));
        expect(cap, `clock ${id} counter ${hw}`).toBe(ok);
      }
    }
  });

  it('[rtc.dev.50] counter_cycles is the counter value at the instant of the clock reading', async () => {
    const r = await started({ counters: [tsc(1_000_000n)] });
    const mono = r.clock.monotonicNs();
    const a = await done(r.driver.readCross(1, VIRTIO_RTC_COUNTER_X86_TSC));
    expect(a.counterCycles).toBe(1_000_000n + (mono * 2_500_000_000n) / NS);
    expect(a.clockReading).toBe(await done(r.driver.read(1)));
    r.clock.advance(NS);
    const b = await done(r.driver.readCross(1, VIRTIO_RTC_COUNTER_X86_TSC));
    expect(b.counterCycles - a.counterCycles).toBe(2_500_000_000n);
    expect(b.clockReading - a.clockReading).toBe(NS);
  });

  it('[rtc.dev.52] READ_CROSS fails when the counter value cannot be determined', async () => {
    let available = true;
    const flaky: RtcHwCounter = { hwCounter: VIRTIO_RTC_COUNTER_ARM_VCT, cyclesAt: (m) => (available ? m : null) };
    const r = await started({ counters: [flaky] });
    expect((await done(r.driver.readCross(0, VIRTIO_RTC_COUNTER_ARM_VCT))).counterCycles).toBe(r.clock.monotonicNs());
    available = false;
    await expect(done(r.driver.readCross(0, VIRTIO_RTC_COUNTER_ARM_VCT))).rejects.toMatchObject({ status: VIRTIO_RTC_S_EIO });
    // A counter the device has no relation for at all.
    await expect(done(r.driver.readCross(0, VIRTIO_RTC_COUNTER_X86_TSC))).rejects.toEqual(new RtcStatusError(VIRTIO_RTC_S_EOPNOTSUPP, 2));
  });

  it('[rtc.dev.53] a later READ_CROSS of the same clock and counter never returns fewer counter cycles', async () => {
    const values = [900n, 1000n, 400n, 1000n, 1200n];
    let i = 0;
    const jittery: RtcHwCounter = { hwCounter: VIRTIO_RTC_COUNTER_X86_TSC, cyclesAt: () => values[i++] };
    const r = await started({ counters: [jittery] });
    const got: bigint[] = [];
    for (let k = 0; k < values.length; k++) got.push((await done(r.driver.readCross(0, VIRTIO_RTC_COUNTER_X86_TSC))).counterCycles);
    expect(got).toEqual([900n, 1000n, 1000n, 1000n, 1200n]);
  });

  it('[rtc.dev.54] READ_CROSS clock readings are in nanoseconds', async () => {
    const r = await started({ clocks: ALL_TYPES, counters: [tsc()] });
    for (let id = 0; id < ALL_TYPES.length; id++) {
      const a = await done(r.driver.readCross(id, VIRTIO_RTC_COUNTER_X86_TSC));
      r.clock.advance(2_000_000_003n);
      const b = await done(r.driver.readCross(id, VIRTIO_RTC_COUNTER_X86_TSC));
      expect(b.clockReading - a.clockReading).toBe(2_000_000_003n);
    }
  });
});
