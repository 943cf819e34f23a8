// Malformed chains from a hostile driver: the device answers with the spec's status where
// one exists, else sets DEVICE_NEEDS_RESET; it never throws, hangs or writes a readable buffer.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET } from '@virtio/core';
import {
  BlkFramingError,
  MemoryBackend,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
} from '../src/index.js';
import { pattern } from './harness.js';
import { DATA, HDR, rawRig, STATUS } from './raw.js';

const S = 512;

describe('adversarial chains', () => {
  it('answers IOERR to a header shorter than 16 bytes', async () => {
    const t = rawRig();
    t.header(VIRTIO_BLK_T_IN, 0);
    const used = await t.submit([{ addr: HDR, len: 8 }], [{ addr: DATA, len: S }, t.status()]);
    expect(used?.len).toBe(0);
    expect(t.memory.readU8(STATUS)).toBe(VIRTIO_BLK_S_IOERR);
    expect(t.state.status & NEEDS_RESET).toBe(0);
  });

  it('reads a header split over descriptors and data framed at any boundary (VIRTIO_F_VERSION_1 framing)', async () => {
    const t = rawRig();
    t.header(VIRTIO_BLK_T_OUT, 5, DATA);
    t.memory.write(DATA + 16, pattern(S, 3));
    // header 4 + 12 bytes, the second piece carrying the first 100 data bytes too
    const used = await t.submit([{ addr: DATA, len: 4 }, { addr: DATA + 4, len: 112 }, { addr: DATA + 116, len: S - 100 }], [t.status()]);
    expect(used?.len).toBe(1);
    expect(t.memory.readU8(STATUS)).toBe(VIRTIO_BLK_S_OK);
    expect((t.backend as MemoryBackend).data.subarray(5 * S, 6 * S)).toEqual(pattern(S, 3));
    // a read whose status byte shares a descriptor with the data
    t.header(VIRTIO_BLK_T_IN, 5);
    t.memory.writeU8(DATA + 0x1000 + S, 0xff);
    const u = await t.submit([{ addr: HDR, len: 16 }], [{ addr: DATA + 0x1000, len: S + 1 }]);
    expect(u?.len).toBe(S + 1);
    expect(t.memory.readU8(DATA + 0x1000 + S)).toBe(VIRTIO_BLK_S_OK);
  });

  it('sets DEVICE_NEEDS_RESET for a chain without a writable status byte, returning its buffers', async () => {
    const t = rawRig();
    const used = await t.submit([t.header(VIRTIO_BLK_T_IN, 0)], []);
    expect(used?.len).toBe(0);
    expect(t.state.status & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(t.state.lastError).toBeInstanceOf(BlkFramingError);
  });

  it('sets DEVICE_NEEDS_RESET when the status byte is in a readable descriptor, and writes nothing there', async () => {
    const t = rawRig();
    t.memory.writeU8(STATUS, 0x77);
    const used = await t.submit([t.header(VIRTIO_BLK_T_OUT, 0), { addr: STATUS, len: 1 }], []);
    expect(used?.len).toBe(0);
    expect(t.memory.readU8(STATUS)).toBe(0x77);
    expect(t.state.status & NEEDS_RESET).toBe(NEEDS_RESET);
  });

  it('never writes a device-readable buffer, whatever the request (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          type: fc.oneof(fc.constantFrom(0, 1, 4, 8, 10, 11, 13, 14, 16, 24), fc.nat()),
          sector: fc.oneof(fc.nat(4096), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
          outLens: fc.array(fc.integer({ min: 0, max: 2048 }), { maxLength: 4 }),
          inLens: fc.array(fc.integer({ min: 0, max: 2048 }), { minLength: 1, maxLength: 4 }),
        }),
        async ({ type, sector, outLens, inLens }) => {
          const t = rawRig({ secureErase: true });
          t.header(type >>> 0, typeof sector === 'bigint' ? sector : BigInt(sector));
          let addr = DATA;
          const out = [{ addr: HDR, len: 16 }];
          for (const len of outLens) {
            t.memory.write(addr, new Uint8Array(len).fill(0x5a));
            out.push({ addr, len });
            addr += len;
          }
          const readableEnd = addr;
          const inSegs = [];
          for (const len of inLens) {
            inSegs.push({ addr, len });
            addr += len;
          }
          const used = await t.submit(out, inSegs);
          expect(used).not.toBeNull();
          const readable = new Uint8Array(readableEnd - DATA);
          t.memory.read(DATA, readable);
          expect(readable.every((x) => x === 0x5a)).toBe(true);
          if (inLens.some((l) => l > 0)) expect(t.state.status & NEEDS_RESET).toBe(0);
          expect(used!.len).toBeLessThanOrEqual(inLens.reduce((a, b) => a + b, 0));
        },
      ),
      { numRuns: 150 },
    );
  });
});
