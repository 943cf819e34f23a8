import { describe, expect, it } from 'vitest';
import { PatternEntropySource, TokenBucket } from '../src/index.js';
import { ManualClock, rig, settle, VARIANTS } from './harness.js';

const source = () => new PatternEntropySource(Uint8Array.of(1, 2, 3, 4, 5));

describe('TokenBucket', () => {
  it('accrues tokens at the rate up to the burst', () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ bytesPerSecond: 1000, burst: 100 }, clock);
    expect(b.available()).toBe(100);
    b.take(100);
    expect(b.available()).toBe(0);
    expect(b.msUntil(50)).toBe(50);
    clock.advance(20);
    expect(b.available()).toBe(20);
    clock.advance(10_000);
    expect(b.available()).toBe(100);
    expect(b.msUntil(1000)).toBe(0); // never asks for more than the burst
  });

  it('refuses non-positive rates and bursts', () => {
    const clock = new ManualClock();
    expect(() => new TokenBucket({ bytesPerSecond: 0 }, clock)).toThrow(RangeError);
    expect(() => new TokenBucket({ bytesPerSecond: Number.NaN }, clock)).toThrow(RangeError);
    expect(() => new TokenBucket({ bytesPerSecond: 10, burst: 0 }, clock)).toThrow(RangeError);
  });
});

describe.each(VARIANTS)('rate-limited entropy device over $name', ({ features }) => {
  it('[entropy.dev.1] holds requests until tokens accrue, losing none, completing in order', async () => {
    const clock = new ManualClock();
    const t = rig({ source: source(), clock, rateLimit: { bytesPerSecond: 100, burst: 100 } }, features);
    const done: number[] = [];
    const reqs = [100, 50, 50, 30].map((n, i) => t.driver.request(n).then((b) => (done.push(i), b)));
    await settle();
    expect(done).toEqual([0]);
    expect(t.device.waiting).toBe(3);
    clock.advance(499);
    await settle();
    expect(done).toEqual([0]);
    clock.advance(1);
    await settle();
    expect(done).toEqual([0, 1]);
    clock.advance(800);
    await settle();
    expect(done).toEqual([0, 1, 2, 3]);
    const got = await Promise.all(reqs);
    expect(got.map((b) => b.length)).toEqual([100, 50, 50, 30]);
    expect(t.device.stats.throttled).toBeGreaterThan(0);
  });

  it('[entropy.dev.1] serves a buffer larger than the burst in burst-sized pieces, never empty', async () => {
    const clock = new ManualClock();
    const t = rig({ source: source(), clock, rateLimit: { bytesPerSecond: 10, burst: 10 } }, features);
    const p = t.driver.read(35);
    for (let i = 0; i < 5; i++) {
      await settle();
      clock.advance(1000);
    }
    await settle();
    expect((await p).length).toBe(35);
    expect(t.device.stats.requests).toBe(4);
  });
});

describe('rate-limited device reset', () => {
  it('a reset drops waiting chains: the timer fires into nothing, guest memory stays untouched', async () => {
    const clock = new ManualClock();
    const t = rig({ source: source(), clock, rateLimit: { bytesPerSecond: 10, burst: 10 } });
    const first = t.driver.request(10);
    const second = t.driver.request(10);
    second.catch(() => undefined);
    await settle();
    await first;
    expect(t.device.waiting).toBe(1);
    const chain = t.popped[1];
    const before = new Uint8Array(10);
    t.memory.read(chain.writable[0].addr, before);
    let interrupts = 0;
    t.transport.onInterrupt = () => interrupts++;
    t.driver.reset();
    await expect(second).rejects.toThrow('device reset');
    expect(t.device.waiting).toBe(0);
    clock.advance(10_000);
    const after = new Uint8Array(10);
    t.memory.read(chain.writable[0].addr, after);
    expect(after).toEqual(before);
    expect(interrupts).toBe(0);
    expect(t.device.stats.requests).toBe(1);
  });
});
