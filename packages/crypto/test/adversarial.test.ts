// A hostile driver: random chains never throw, hang or write readable buffers; a reset with
// an operation in flight waits for it and never writes its result.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { featureMask, VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET } from '@virtio/core';
import { VIRTIO_CRYPTO_CIPHER_AES_CTR, VIRTIO_CRYPTO_CIPHER_ENCRYPT, type CipherBackend, type CipherSession } from '../src/index.js';
import { rawRig, REQ, RESP } from './raw.js';
import { allServices, settle } from './harness.js';

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

  it('HASH, MAC and AEAD requests with random lengths and buffers: each is answered, readable bytes stay intact', async () => {
    const t = rawRig(allServices());
    // One session per service: HASH SHA-256/32, MAC HMAC-SHA-256/32 (16-byte key), AEAD GCM encrypt and decrypt (tag 16).
    const sessions: bigint[] = [];
    for (const [opcode, flf] of [
      [0x102, [4, 32]],
      [0x202, [4, 32, 16]],
      [0x302, [1, 16, 16, 0, 1]],
      [0x302, [1, 16, 16, 0, 2]],
    ] as const) {
      t.memory.write(REQ, new Uint8Array(88));
      t.memory.writeU32(REQ, opcode);
      flf.forEach((v, i) => t.memory.writeU32(REQ + 16 + 4 * i, v));
      await t.submit(1, [{ addr: REQ, len: 88 }], [{ addr: RESP, len: 16 }]);
      expect(t.memory.readU32(RESP + 8)).toBe(0);
      sessions.push(t.memory.readU64(RESP));
    }
    const len = fc.oneof(fc.nat(96), fc.constantFrom(0xffffffff, 0x80000000, 2 ** 31 - 1));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0x100, 0x200, 0x300, 0x301),
        fc.constantFrom(...sessions),
        fc.array(len, { minLength: 5, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 96 }), { maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 96 }), { minLength: 1, maxLength: 3 }),
        async (opcode, session, flf, outLens, inLens) => {
          t.memory.write(REQ, new Uint8Array(72));
          t.memory.writeU32(REQ, opcode);
          t.memory.writeU64(REQ + 8, session);
          flf.forEach((v, i) => t.memory.writeU32(REQ + 24 + 4 * i, v));
          const out = [{ addr: REQ, len: 72 }, ...outLens.map((l, i) => ({ addr: REQ + 0x100 * (i + 1), len: l }))];
          const inSegs = inLens.map((l, i) => ({ addr: RESP + 0x100 * i, len: l }));
          const before = t.memory.view(REQ, 0x400).slice();
          const used = await t.submit(0, out, inSegs);
          expect(used).not.toBeNull();
          expect(t.state.status & NEEDS_RESET).toBe(0);
          expect(t.memory.view(REQ, 0x400)).toEqual(before);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('revision 1, stateless and AKCIPHER requests with random flags, parameters and buffers: each is answered, readable bytes stay intact', async () => {
    const t = rawRig({ ...allServices(), wanted: featureMask(0, 1, 2, 3, 4, 5) });
    // Revision-1 sessions: HASH SHA-256/32 (8-byte op_flf), AEAD GCM encrypt (24), RSA private key (56 + key).
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 512 });
    const der = new Uint8Array(privateKey.export({ type: 'pkcs1', format: 'der' }));
    const sessions: bigint[] = [];
    for (const [opcode, flf, flfLen, key] of [
      [0x102, [4, 32], 8, new Uint8Array(0)],
      [0x302, [1, 16, 16, 0, 1], 24, new Uint8Array(16)],
      [0x404, [1, 2, der.length, 1, 6], 56, der],
    ] as const) {
      t.memory.write(REQ, new Uint8Array(16 + flfLen));
      t.memory.writeU32(REQ, opcode);
      flf.forEach((v, i) => t.memory.writeU32(REQ + 16 + 4 * i, v));
      t.memory.write(REQ + 16 + flfLen, key);
      await t.submit(1, [{ addr: REQ, len: 16 + flfLen + key.length }], [{ addr: RESP, len: 16 }]);
      expect(t.memory.readU32(RESP + 8)).toBe(0);
      sessions.push(t.memory.readU64(RESP));
    }
    const word = fc.oneof(fc.nat(80), fc.constantFrom(0xffffffff, 0x80000000, 1, 2, 4, 6, 12, 16, 32));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0x000, 0x001, 0x100, 0x200, 0x300, 0x301, 0x400, 0x401, 0x402, 0x403),
        fc.constantFrom(...sessions, 999n),
        fc.constantFrom(0, 1, 2),
        fc.array(word, { minLength: 19, maxLength: 19 }),
        fc.array(fc.integer({ min: 1, max: 160 }), { maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 160 }), { minLength: 1, maxLength: 3 }),
        async (opcode, session, flag, flf, outLens, inLens) => {
          t.memory.write(REQ, new Uint8Array(100));
          t.memory.writeU32(REQ, opcode);
          t.memory.writeU64(REQ + 8, session);
          t.memory.writeU32(REQ + 16, flag);
          flf.forEach((v, i) => t.memory.writeU32(REQ + 24 + 4 * i, v));
          const out = [{ addr: REQ, len: 100 }, ...outLens.map((l, i) => ({ addr: REQ + 0x100 * (i + 1), len: l }))];
          const inSegs = inLens.map((l, i) => ({ addr: RESP + 0x100 * i, len: l }));
          const before = t.memory.view(REQ, 0x400).slice();
          const used = await t.submit(0, out, inSegs);
          expect(used).not.toBeNull();
          expect(t.state.status & NEEDS_RESET).toBe(0);
          expect(t.memory.view(REQ, 0x400)).toEqual(before);
        },
      ),
      { numRuns: 300 },
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
