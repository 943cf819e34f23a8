// A hostile driver: random chains never throw, hang or write readable buffers; a reset with
// an operation in flight waits for it and never writes its result.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET } from '@virtio/core';
import { VIRTIO_CRYPTO_CIPHER_AES_CTR, VIRTIO_CRYPTO_CIPHER_ENCRYPT, type CipherBackend, type CipherSession } from '../src/index.js';
import { rawRig, REQ, RESP } from './raw.js';
import { settle } from './harness.js';

describe('adversarial chains', () => {
  it('random chains on both queues: each is used or the device needs reset; readable bytes stay intact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(120), { maxLength: 3 }),
        fc.array(fc.nat(120), { maxLength: 3 }),
        fc.uint8Array({ minLength: 96, maxLength: 96 }),
        fc.constantFrom(0, 1),
        async (outLens, inLens, bytes, qi) => {
          const t = rawRig();
          t.memory.write(REQ, bytes);
          let a = REQ;
          const out = outLens.filter((l) => l > 0).map((len) => ({ addr: (a += 0x100) - 0x100, len }));
          let b = RESP;
          const inSegs = inLens.filter((l) => l > 0).map((len) => ({ addr: (b += 0x100) - 0x100, len }));
          if (out.length + inSegs.length === 0) return;
          const before = t.memory.view(REQ, 0x400).slice();
          const used = await t.submit(qi, out, inSegs);
          expect(used !== null || (t.state.status & NEEDS_RESET) !== 0).toBe(true);
          expect(t.memory.view(REQ, 0x400)).toEqual(before);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a reset waits for a running operation and its result is never written', async () => {
    const release: (() => void)[] = [];
    const held: CipherSession = { run: (_iv, src) => new Promise((r) => release.push(() => r(src.slice()))) };
    const backend: CipherBackend = { cipherAlgorithms: [VIRTIO_CRYPTO_CIPHER_AES_CTR], maxCipherKeyLen: 32, createCipherSession: async () => held };
    const t = rawRig({ backend });
    await t.submit(1, [t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, 16)], [{ addr: RESP, len: 16 }]);
    const sid = t.memory.readU64(RESP);
    t.memory.writeU8(RESP, 0xee);
    t.memory.write(0x8000, new Uint8Array(32).fill(1));
    await t.submit(0, [t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, sid, 16, 16, 16), { addr: 0x8000, len: 32 }], [{ addr: 0x9000, len: 16 }, { addr: RESP, len: 1 }]);
    expect(release.length).toBe(1);
    const reset = t.device.reset();
    expect(reset).toBeInstanceOf(Promise);
    let done = false;
    void (reset as Promise<void>).then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    release[0]();
    await reset;
    await settle();
    expect(t.memory.readU8(RESP)).toBe(0xee);
    expect(t.memory.view(0x9000, 16).every((x) => x === 0)).toBe(true);
  });
});
