// A hostile driver: malformed chains, random chains; a failing or asynchronous backend.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeTransferHead, VIRTIO_SPI_PARAM_ERR, VIRTIO_SPI_TRANS_ERR, VIRTIO_SPI_TRANS_OK, type SpiTransfer, type SpiTransferHead } from '../src/index.js';
import { rawRig, SCRATCH, VARIANTS } from './harness.js';

const head = (h: Partial<SpiTransferHead> = {}) =>
  encodeTransferHead({ chipSelectId: 0, bitsPerWord: 8, csChange: 0, txNbits: 0, rxNbits: 0, mode: 0, freq: 0, wordDelayNs: 0, csSetupNs: 0, csDelayHoldNs: 0, csChangeDelayInactiveNs: 0, ...h });

describe('adversarial SPI requests (device)', () => {
  it('a head shorter than 32 bytes or a buffer over maxTransferLength gets VIRTIO_SPI_PARAM_ERR', () => {
    const t = rawRig({ device: { maxTransferLength: 8 } });
    const r1 = t.room(1);
    const r2 = t.room(1);
    const r3 = t.room(1);
    t.add([t.put(head().subarray(0, 31))], [r1], 'short head');
    t.add([t.put(head()), t.put(new Array(9).fill(1))], [r2], 'long tx');
    t.add([t.put(head())], [t.room(9), r3], 'long rx');
    t.kick();
    expect([r1, r2, r3].map((r) => t.bytes(r)[0])).toEqual([VIRTIO_SPI_PARAM_ERR, VIRTIO_SPI_PARAM_ERR, VIRTIO_SPI_PARAM_ERR]);
    expect(t.needsReset()).toBe(false);
  });

  it('a chain without a device-writable byte sets DEVICE_NEEDS_RESET', () => {
    const t = rawRig();
    t.add([t.put(head()), t.put([1])], [], 'no result byte');
    t.kick();
    expect(t.needsReset()).toBe(true);
    t.add([t.put(head()), t.put([1])], [t.room(1)], 'later');
    t.kick();
    expect(t.used()).toEqual([]);
  });

  it('a backend that throws or rejects gives VIRTIO_SPI_TRANS_ERR; transfers stay in order with an asynchronous backend', async () => {
    const seen: number[] = [];
    const bus = {
      transfer: async (x: SpiTransfer) => {
        seen.push(x.tx[0]);
        await new Promise((r) => setTimeout(r, 4 - seen.length));
        if (x.tx[0] === 1) throw new Error('bus fault');
        x.rx.fill(x.tx[0]);
        return x.tx[0] !== 2;
      },
    };
    const t = rawRig({ bus });
    const results = [0, 1, 2, 3].map((i) => {
      const r = t.room(1);
      t.add([t.put(head()), t.put([i])], [t.room(1), r], `t${i}`);
      return r;
    });
    t.kick();
    // Wait (bounded) until the last result is written.
    for (let i = 0; i < 400 && t.bytes(results[3])[0] === 0xee; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(t.used().map((u) => u.token)).toEqual(['t0', 't1', 't2', 't3']);
    expect(results.map((r) => t.bytes(r)[0])).toEqual([VIRTIO_SPI_TRANS_OK, VIRTIO_SPI_TRANS_ERR, VIRTIO_SPI_TRANS_ERR, VIRTIO_SPI_TRANS_OK]);
  });

  it('a reset while an asynchronous transfer runs drops its result without touching guest memory', async () => {
    let finish: ((ok: boolean) => void) | undefined;
    const bus = { transfer: (x: SpiTransfer) => new Promise<boolean>((r) => ((finish = r), x.rx.fill(0x77))) };
    const t = rawRig({ bus });
    const rx = t.room(2);
    const r = t.room(1);
    t.add([t.put(head())], [rx, r], 'read');
    t.kick();
    t.dd.reset();
    finish?.(true);
    await new Promise((res) => setTimeout(res, 0));
    expect([...t.bytes(rx), ...t.bytes(r)]).toEqual([0xee, 0xee, 0xee]);
  });

  it.each(VARIANTS)('random chains never throw out of the device nor write device-readable memory ($name)', ({ features }) => {
    const seg = fc.record({ off: fc.integer({ min: 0, max: 0x3fc0 }), len: fc.integer({ min: 0, max: 40 }) });
    const chain = fc.record({ out: fc.array(seg, { maxLength: 3 }), in: fc.array(seg, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(chain, { minLength: 1, maxLength: 12 }), fc.uint8Array({ minLength: 0x4000, maxLength: 0x4000 }), (chains, data) => {
        const t = rawRig({ features });
        // Plausible heads every 64 bytes: chip select 0..3, 8-bit words, mode bits random.
        for (let i = 0; i + 32 <= data.length; i += 64) data.set([data[i] & 3, 8, data[i + 2] & 1, 0, 0, 0, 0, 0, data[i + 8] & 3], i);
        t.memory.write(SCRATCH, data);
        for (const c of chains) {
          const out = c.out.map((s, i) => ({ addr: SCRATCH + (i === 0 ? s.off & ~63 : s.off), len: i === 0 ? 32 + (s.len & 1) : s.len }));
          const inSegs = c.in.map((s) => ({ addr: SCRATCH + 0x8000 + s.off, len: s.len }));
          if (out.length + inSegs.length === 0) continue;
          t.add(out, inSegs, 'x');
          t.kick();
          t.used();
        }
        const after = new Uint8Array(0x4000);
        t.memory.read(SCRATCH, after);
        expect(after).toEqual(data);
      }),
      { numRuns: 60 },
    );
  });
});
