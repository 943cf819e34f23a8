// Clock types and leap seconds (spec 5.23.6.1 and 5.23.6.2.2): UTC steps at leap seconds,
// smeared UTC changes its frequency in the variant's window, TAI and monotonic never step.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FakeTimeSource,
  LeapSecondTable,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_TAI,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED,
  VIRTIO_RTC_CLOCK_UTC_SMEARED,
  VIRTIO_RTC_SMEAR_NOON_LINEAR,
  VIRTIO_RTC_SMEAR_UNSPECIFIED,
  VIRTIO_RTC_SMEAR_UTC_SLS,
  type RtcClockSpec,
} from '../src/index.js';
import { done, NS, started, UTC_2026, type Rig } from './harness.js';

/** A leap day 30 days after the rig's start; its leap second ends at midnight M. */
const M = UTC_2026 + 30n * 86_400n;
const leapTable = (step: 1 | -1) => new LeapSecondTable({ taiMinusUtc: 37, leaps: [{ utc: Number(M), step }] });
/** TAI instant (ns) at which UTC (before the leap) reads `utcSeconds` + `ns`. */
const taiAtUtc = (utcSeconds: bigint, ns = 0n) => (utcSeconds + 37n) * NS + ns;

const CLOCKS: RtcClockSpec[] = [
  { type: VIRTIO_RTC_CLOCK_UTC },
  { type: VIRTIO_RTC_CLOCK_TAI },
  { type: VIRTIO_RTC_CLOCK_MONOTONIC },
  { type: VIRTIO_RTC_CLOCK_UTC_SMEARED, smearing: VIRTIO_RTC_SMEAR_NOON_LINEAR },
  { type: VIRTIO_RTC_CLOCK_UTC_SMEARED, smearing: VIRTIO_RTC_SMEAR_UTC_SLS },
  { type: VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED, smearing: VIRTIO_RTC_SMEAR_NOON_LINEAR },
  { type: VIRTIO_RTC_CLOCK_UTC_MAYBE_SMEARED },
];
const [UTC, TAI, MONO, NOON, SLS, MAYBE_SMEAR, MAYBE_STEP] = [0, 1, 2, 3, 4, 5, 6];

async function leapRig(step: 1 | -1): Promise<Rig> {
  return started({ clocks: CLOCKS, leapSeconds: leapTable(step) });
}

/** Reads clock `id` at TAI instant `tai` (the host's time is set there first). */
async function at(r: Rig, id: number, tai: bigint): Promise<bigint> {
  r.clock.setTai(tai);
  return done(r.driver.read(id));
}

/** Reading rate of clock `id` over [tai, tai + span] (span in seconds), as a number. */
async function rate(r: Rig, id: number, tai: bigint, span: bigint): Promise<number> {
  const a = await at(r, id, tai);
  const b = await at(r, id, tai + span * NS);
  return Number(b - a) / Number(span * NS);
}

describe('UTC', () => {
  it('[rtc.dev.20] a UTC clock reads the UTC time standard: TAI minus the configured TAI - UTC', async () => {
    const tai = taiAtUtc(UTC_2026, 123_456_789n);
    for (const offset of [37, 36]) {
      const r = await started({ leapSeconds: new LeapSecondTable({ taiMinusUtc: offset }) });
      expect(await at(r, 0, tai)).toBe(tai - BigInt(offset) * NS);
    }
  });

  it('[rtc.dev.22] UTC-like clocks use the epoch 1970-01-01 00:00 UTC', async () => {
    const r = await started({ clocks: CLOCKS, leapSeconds: new LeapSecondTable({ taiMinusUtc: 37 }) });
    for (const id of [UTC, NOON, SLS, MAYBE_SMEAR, MAYBE_STEP]) expect(await at(r, id, 37n * NS)).toBe(0n);
    // 2017-01-01T00:00:00Z is 1483228800 POSIX seconds.
    for (const id of [UTC, NOON, SLS]) expect(await at(r, id, taiAtUtc(1_483_228_800n))).toBe(1_483_228_800n * NS);
  });

  it('[rtc.dev.23] UTC-like clocks count 86400 s per day (EPOCH): a leap second is not counted', async () => {
    for (const step of [1, -1] as const) {
      const r = await leapRig(step);
      const dayStart = M - 86_400n;
      const leapDayLength = 86_400n + BigInt(step);
      for (const id of [UTC, NOON, SLS, MAYBE_SMEAR, MAYBE_STEP]) {
        // Midnight before the leap day and the next midnight, a day plus the leap second of TAI apart.
        expect(await at(r, id, taiAtUtc(dayStart) - 43_200n * NS)).toBe((dayStart - 43_200n) * NS);
        expect(await at(r, id, taiAtUtc(dayStart) + leapDayLength * NS + 43_200n * NS)).toBe((M + 43_200n) * NS);
      }
    }
  });

  it('[rtc.dev.24] a UTC clock steps back by 1 s at the start of a positive leap second', async () => {
    const r = await leapRig(1);
    const start = taiAtUtc(M);
    expect(await at(r, UTC, start - 1n)).toBe(M * NS - 1n);
    expect(await at(r, UTC, start)).toBe((M - 1n) * NS);
    expect(await at(r, UTC, start + NS)).toBe(M * NS);
    expect(await at(r, MAYBE_STEP, start)).toBe((M - 1n) * NS);
  });

  it('[rtc.dev.25] a UTC clock steps forward by 1 s at the start of a negative leap second', async () => {
    const r = await leapRig(-1);
    const start = taiAtUtc(M - 1n);
    expect(await at(r, UTC, start - 1n)).toBe((M - 1n) * NS - 1n);
    expect(await at(r, UTC, start)).toBe(M * NS);
    expect(await at(r, MAYBE_STEP, start)).toBe(M * NS);
  });
});

describe('smeared UTC', () => {
  it('[rtc.dev.21] smeared clocks read UTC away from leap seconds', async () => {
    for (const step of [1, -1] as const) {
      const r = await leapRig(step);
      for (const tai of [taiAtUtc(UTC_2026, 5n), taiAtUtc(M - 2n * 86_400n), taiAtUtc(M + 2n * 86_400n, 17n)]) {
        const utc = await at(r, UTC, tai);
        for (const id of [NOON, SLS, MAYBE_SMEAR]) expect(await at(r, id, tai)).toBe(utc);
      }
    }
  });

  it('[rtc.dev.26] leap smearing clocks do not step at a leap second', async () => {
    for (const step of [1, -1] as const) {
      const r = await leapRig(step);
      const leapStart = taiAtUtc(step === 1 ? M : M - 1n);
      for (const id of [NOON, SLS, MAYBE_SMEAR]) {
        let last = await at(r, id, leapStart - 3n * 1_000_000n);
        for (let t = leapStart - 2n * 1_000_000n; t <= leapStart + 2n * 1_000_000n; t += 1_000_000n) {
          const v = await at(r, id, t);
          // 1 ms of physical time: the reading moves by about 1 ms, never by a second.
          expect(v - last).toBeGreaterThan(990_000n);
          expect(v - last).toBeLessThan(1_010_000n);
          last = v;
        }
      }
    }
    // The whole window, at random instants: never a step, never backwards.
    for (const variant of [VIRTIO_RTC_SMEAR_NOON_LINEAR, VIRTIO_RTC_SMEAR_UTC_SLS] as const) {
      for (const step of [1, -1] as const) {
        const table = leapTable(step);
        fc.assert(
          fc.property(fc.bigInt({ min: taiAtUtc(M - 50_000n), max: taiAtUtc(M + 50_000n) }), fc.bigInt({ min: 1n, max: NS }), (t, d) => {
            const delta = table.smear(t + d, variant) - table.smear(t, variant);
            // Never back, never more than the fastest smear (0.1%) plus rounding.
            return delta >= 0n && delta * 1000n <= d * 1002n + 1000n;
          }),
        );
      }
    }
  });

  it('[rtc.dev.27] on a positive leap second, leap smearing clocks run slow around the leap day', async () => {
    const r = await leapRig(1);
    for (const [id, tai] of [[NOON, taiAtUtc(M - 3600n)], [SLS, taiAtUtc(M - 500n)], [MAYBE_SMEAR, taiAtUtc(M + 3600n)]] as const) {
      expect(await rate(r, id, tai, 100n)).toBeLessThan(1);
    }
  });

  it('[rtc.dev.28] on a negative leap second, leap smearing clocks run fast around the leap day', async () => {
    const r = await leapRig(-1);
    for (const [id, tai] of [[NOON, taiAtUtc(M - 3600n)], [SLS, taiAtUtc(M - 500n)], [MAYBE_SMEAR, taiAtUtc(M + 3600n)]] as const) {
      expect(await rate(r, id, tai, 100n)).toBeGreaterThan(1);
    }
  });

  it('[rtc.dev.29] NOON_LINEAR changes the frequency exactly from the noon before to the noon after the leap second', async () => {
    for (const step of [1, -1] as const) {
      const r = await leapRig(step);
      const start = taiAtUtc(M - 43_200n);
      // The UTC reading of noon after the leap, reached at TAI (noon + TAI - UTC after the leap).
      const end = (M + 43_200n + 37n + BigInt(step)) * NS;
      expect(await rate(r, NOON, start - 10n * NS, 10n)).toBe(1);
      expect(await rate(r, NOON, start, 10n)).not.toBe(1);
      expect(await rate(r, NOON, end - 10n * NS, 10n)).not.toBe(1);
      expect(await rate(r, NOON, end, 10n)).toBe(1);
      expect(await at(r, NOON, start)).toBe((M - 43_200n) * NS);
      expect(await at(r, NOON, end)).toBe((M + 43_200n) * NS);
    }
  });

  it('[rtc.dev.30] NOON_LINEAR slows the clock by 1/86400 for a positive leap second', async () => {
    const r = await leapRig(1);
    const f = await rate(r, NOON, taiAtUtc(M - 40_000n), 80_000n);
    expect(Math.abs(f - (1 - 1 / 86_400))).toBeLessThan(1e-9);
  });

  it('[rtc.dev.31] NOON_LINEAR speeds the clock up by 1/86400 for a negative leap second', async () => {
    const r = await leapRig(-1);
    const f = await rate(r, NOON, taiAtUtc(M - 40_000n), 80_000n);
    expect(Math.abs(f - (1 + 1 / 86_400))).toBeLessThan(1e-9);
  });

  it('[rtc.dev.32] UTC_SLS changes the frequency exactly during the last 1000 s of the leap day', async () => {
    for (const step of [1, -1] as const) {
      const r = await leapRig(step);
      const start = taiAtUtc(M - 1000n);
      const end = (M + 37n + BigInt(step)) * NS;
      expect(await rate(r, SLS, start - 10n * NS, 10n)).toBe(1);
      expect(await rate(r, SLS, start, 10n)).not.toBe(1);
      expect(await rate(r, SLS, end - 10n * NS, 10n)).not.toBe(1);
      expect(await rate(r, SLS, end, 10n)).toBe(1);
      expect(await at(r, SLS, end)).toBe(M * NS);
      expect(await at(r, SLS, end - 1n)).toBeLessThan(M * NS);
    }
  });

  it('[rtc.dev.33] UTC_SLS slows the clock by 0.1% for a positive leap second', async () => {
    const r = await leapRig(1);
    const f = await rate(r, SLS, taiAtUtc(M - 900n), 800n);
    expect(Math.abs(f - 0.999)).toBeLessThan(2e-6);
  });

  it('[rtc.dev.34] UTC_SLS speeds the clock up by 0.1% for a negative leap second', async () => {
    const r = await leapRig(-1);
    const f = await rate(r, SLS, taiAtUtc(M - 900n), 800n);
    expect(Math.abs(f - 1.001)).toBeLessThan(2e-6);
  });

  it('[rtc.dev.35] a UTC_MAYBE_SMEARED clock may smear (configured) or step like UTC', async () => {
    const r = await leapRig(1);
    const leapStart = taiAtUtc(M);
    expect(await at(r, MAYBE_SMEAR, leapStart + NS / 2n)).not.toBe(await at(r, UTC, leapStart + NS / 2n));
    expect(await at(r, MAYBE_STEP, leapStart + NS / 2n)).toBe(await at(r, UTC, leapStart + NS / 2n));
  });
});

describe('TAI and monotonic clocks', () => {
  it('[rtc.dev.36] a TAI clock reads TAI: it ignores TAI - UTC and does not step at leap seconds', async () => {
    for (const step of [1, -1] as const) {
      const r = await leapRig(step);
      for (const tai of [taiAtUtc(M) - 1n, taiAtUtc(M), taiAtUtc(M - 1n), taiAtUtc(UTC_2026)]) expect(await at(r, TAI, tai)).toBe(tai);
    }
    const other = await started({ leapSeconds: new LeapSecondTable({ taiMinusUtc: 10 }) });
    expect(await at(other, 1, 42n * NS)).toBe(42n * NS);
  });

  it('[rtc.dev.37] a TAI clock uses the epoch 1970-01-01 00:00 TAI', async () => {
    const r = await started();
    expect(await at(r, 1, 0n)).toBe(0n);
    expect(await at(r, 1, taiAtUtc(1_483_228_800n))).toBe((1_483_228_800n + 37n) * NS);
  });

  it('[rtc.dev.38] a monotonic clock counts SI seconds: physical time, unaffected by steps of the host time and by leap seconds', async () => {
    const r = await leapRig(1);
    const m0 = await done(r.driver.read(MONO));
    r.clock.setTai(taiAtUtc(M) - NS / 2n);
    r.clock.advance(1_500_000_000n);
    expect(await done(r.driver.read(MONO))).toBe(m0 + 1_500_000_000n);
    r.clock.setTai(0n);
    expect(await done(r.driver.read(MONO))).toBe(m0 + 1_500_000_000n);
  });

  it('[rtc.dev.39] the monotonic epoch is before or at the device reset: the reading covers all time since the reset', async () => {
    const clock = new FakeTimeSource({ taiNs: taiAtUtc(UTC_2026), monotonicNs: 0n });
    const r = await started({}, {}, clock);
    r.driver.reset();
    clock.advance(2n * NS);
    const { RtcDriver } = await import('../src/index.js');
    const again = RtcDriver.initialize(r.transport, { memory: r.memory, allocator: r.allocator });
    r.transport.onInterrupt = () => queueMicrotask(() => again.handleInterrupt());
    clock.advance(NS);
    expect(await done(again.read(2))).toBeGreaterThanOrEqual(3n * NS);
  });

  it('[rtc.dev.40] CLOCK_CAP reports leap_second_smearing UNSPECIFIED for every type but UTC_SMEARED', async () => {
    const r = await started({ clocks: CLOCKS });
    for (const id of [UTC, TAI, MONO, MAYBE_SMEAR, MAYBE_STEP]) expect((await done(r.driver.clockCap(id))).leapSecondSmearing).toBe(VIRTIO_RTC_SMEAR_UNSPECIFIED);
  });

  it('[rtc.dev.41] CLOCK_CAP reports the smearing variant of a UTC_SMEARED clock', async () => {
    const r = await started({ clocks: CLOCKS });
    expect(r.driver.clocks[NOON]).toMatchObject({ type: VIRTIO_RTC_CLOCK_UTC_SMEARED, leapSecondSmearing: VIRTIO_RTC_SMEAR_NOON_LINEAR });
    expect(r.driver.clocks[SLS]).toMatchObject({ type: VIRTIO_RTC_CLOCK_UTC_SMEARED, leapSecondSmearing: VIRTIO_RTC_SMEAR_UTC_SLS });
  });
});

describe('configuration', () => {
  it('refuses clocks and leap tables the device cannot honour', async () => {
    const { RtcDevice } = await import('../src/index.js');
    expect(() => new RtcDevice({ clocks: [{ type: VIRTIO_RTC_CLOCK_UTC_SMEARED }] })).toThrow(RangeError);
    expect(() => new RtcDevice({ clocks: [{ type: VIRTIO_RTC_CLOCK_UTC_SMEARED, smearing: 0xf0 }] })).toThrow(RangeError);
    expect(() => new RtcDevice({ clocks: [{ type: VIRTIO_RTC_CLOCK_TAI, smearing: VIRTIO_RTC_SMEAR_UTC_SLS }] })).toThrow(RangeError);
    expect(() => new RtcDevice({ clocks: [{ type: 0xf0 }] })).toThrow(RangeError);
    expect(() => new LeapSecondTable({ leaps: [{ utc: 1000, step: 1 }] })).toThrow(RangeError);
    expect(() => new LeapSecondTable({ leaps: [{ utc: 86_400 * 10, step: 1 }, { utc: 86_400 * 11, step: 1 }] })).toThrow(RangeError);
  });

  it('UTC to TAI and back is the identity, except inside a positive leap second', () => {
    for (const step of [1, -1] as const) {
      const table = leapTable(step);
      fc.assert(
        fc.property(fc.bigInt({ min: taiAtUtc(M - 86_400n), max: taiAtUtc(M + 86_400n) }), (tai) => {
          const inLeap = step === 1 && tai >= taiAtUtc(M) && tai < taiAtUtc(M) + NS;
          return inLeap || table.utcToTai(table.taiToUtc(tai)) === tai;
        }),
      );
    }
  });

  it('the host time source reads the host clock as TAI through the leap table', async () => {
    const { HostTimeSource } = await import('../src/index.js');
    const src = new HostTimeSource({ leapSeconds: new LeapSecondTable({ taiMinusUtc: 37 }) });
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    const tai = src.taiNs();
    expect(tai - 37n * NS).toBeGreaterThan(before);
    expect(src.monotonicNs()).toBeGreaterThan(0n);
    const date = new HostTimeSource({ utc: 'date' });
    expect(date.utcNs()).toBeGreaterThan(before);
  });
});
