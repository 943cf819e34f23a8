import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PatternEntropySource } from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

const pattern = Uint8Array.from({ length: 251 }, (_, i) => (i * 7 + 3) & 0xff);
const expected = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => pattern[(from + i) % pattern.length]);

describe.each(VARIANTS)('entropy round trip over $name', ({ features }) => {
  it('[entropy.dev.1] fills a request completely with bytes from the source', async () => {
    const t = rig({ source: new PatternEntropySource(pattern) }, features);
    const p = t.driver.request(300);
    await settle();
    expect(await p).toEqual(expected(0, 300));
    expect(t.device.stats).toMatchObject({ requests: 1, bytes: 300 });
  });

  it('serves many concurrent requests, more than the queue holds', async () => {
    const t = rig({ source: new PatternEntropySource(pattern), queueSize: 8 }, features);
    const sizes = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 90));
    const all = Promise.all(sizes.map((n) => t.driver.request(n)));
    await settle();
    const got = await all;
    let off = 0;
    for (let i = 0; i < sizes.length; i++) {
      expect(got[i]).toEqual(expected(off, sizes[i]));
      off += sizes[i];
    }
    expect(t.driver.pending).toBe(0);
  });
});

describe('entropy device uses less than the buffer', () => {
  it('[entropy.dev.1] caps one buffer at maxBytesPerRequest but always places at least one byte', async () => {
    const t = rig({ source: new PatternEntropySource(pattern), maxBytesPerRequest: 10 });
    const p = t.driver.request(64);
    await settle();
    const bytes = await p;
    expect(bytes).toEqual(expected(0, 10));
  });

  it('[entropy.drv.2] the driver takes only the used length, not the whole buffer', async () => {
    const t = rig({ source: new PatternEntropySource(pattern), maxBytesPerRequest: 3 });
    // Poison the guest buffer area: bytes past the used length must not show up.
    t.memory.write(0x1000, new Uint8Array(0x10000).fill(0xee));
    const p = t.driver.request(16);
    await settle();
    expect(await p).toEqual(expected(0, 3));
  });

  it('[entropy.drv.2] read(n) keeps requesting until n bytes arrived', async () => {
    const t = rig({ source: new PatternEntropySource(pattern), maxBytesPerRequest: 7 });
    const p = t.driver.read(50);
    for (let i = 0; i < 10; i++) await settle();
    expect(await p).toEqual(expected(0, 50));
    expect(t.device.stats.requests).toBe(8);
  });
});

describe('entropy driver requirements', () => {
  it.each(VARIANTS)('[entropy.drv.1] never places device-readable buffers ($name)', async ({ features }) => {
    const t = rig({ source: new PatternEntropySource(pattern) }, features);
    const all = Promise.allSettled([t.driver.request(1), t.driver.request(4096), t.driver.read(100)]);
    for (let i = 0; i < 5; i++) await settle();
    expect(t.popped.length).toBeGreaterThanOrEqual(3);
    for (const c of t.popped) {
      expect(c.readable).toEqual([]);
      expect(c.writableLength).toBeGreaterThan(0);
    }
    expect((await all).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
  });
});

describe('entropy property', () => {
  it('any sequence of request sizes returns the source stream in order, on both layouts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...VARIANTS),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 70000 }),
        async (variant, sizes, cap) => {
          const t = rig({ source: new PatternEntropySource(pattern), queueSize: 16, maxBytesPerRequest: cap }, variant.features);
          const all = Promise.all(sizes.map((n) => t.driver.request(n)));
          await settle();
          const got = await all;
          let off = 0;
          for (let i = 0; i < sizes.length; i++) {
            expect(got[i].length).toBe(Math.min(sizes[i], cap));
            expect(got[i]).toEqual(expected(off, got[i].length));
            off += got[i].length;
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe.each(VARIANTS.filter((v) => v.name.includes('indirect')))('indirect chains over $name', ({ features }) => {
  it('[entropy.dev.1] fills every writable buffer of an indirect chain, in order', async () => {
    const t = rig({ source: new PatternEntropySource(pattern) }, features);
    const q = t.driver.device.queues[0]!;
    const segs = [
      { addr: 0xf0000, len: 3 },
      { addr: 0xf1000, len: 100 },
      { addr: 0xf2000, len: 1 },
    ];
    expect(q.add([], segs, 'raw', { indirect: true })).toBe(true);
    t.driver.device.kick(0);
    const got = segs.flatMap((s) => {
      const b = new Uint8Array(s.len);
      t.memory.read(s.addr, b);
      return [...b];
    });
    expect(Uint8Array.from(got)).toEqual(expected(0, 104));
    expect(t.device.stats.bytes).toBe(104);
  });
});
