// CIPHER sessions and operations through our driver and device, checked against Node's crypto.
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CryptoConfigOffset as O,
  VIRTIO_CRYPTO_CIPHER_AES_CBC,
  VIRTIO_CRYPTO_CIPHER_AES_CTR,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_S_HW_READY,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  CryptoDevice,
  WebCryptoCipherBackend,
} from '../src/index.js';
import { RING_MODES, rig } from './harness.js';

const key = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const iv = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const plain = Uint8Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff);
const SRC = 0x10000;
const DST = 0x20000;

function nodeCipher(alg: string, k: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv(alg, k, iv);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

describe('configuration', () => {
  it('[crypto.dev.1] max_dataqueues 1..65535, status HW_READY only, CIPHER service with its defined algorithm bits, key length and max_size', () => {
    const d = new CryptoDevice({ backend: new WebCryptoCipherBackend(), dataQueues: 3, maxSize: 4096 });
    expect(d.readConfig(O.status, 4)).toBe(VIRTIO_CRYPTO_S_HW_READY);
    expect(d.readConfig(O.max_dataqueues, 4)).toBe(3);
    expect(d.readConfig(O.crypto_services, 4)).toBe(1 << VIRTIO_CRYPTO_SERVICE_CIPHER);
    expect(d.readConfig(O.cipher_algo_l, 4)).toBe((1 << VIRTIO_CRYPTO_CIPHER_AES_CBC) | (1 << VIRTIO_CRYPTO_CIPHER_AES_CTR));
    expect([O.cipher_algo_h, O.hash_algo, O.mac_algo_l, O.mac_algo_h, O.aead_algo, O.akcipher_algo, O.max_auth_key_len].map((o) => d.readConfig(o, 4))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(d.readConfig(O.max_cipher_key_len, 4)).toBe(32);
    expect([d.readConfig(O.max_size, 4), d.readConfig(O.max_size + 4, 4)]).toEqual([4096, 0]);
    expect(() => new CryptoDevice({ backend: new WebCryptoCipherBackend(), dataQueues: 0 })).toThrow(RangeError);
    expect(() => new CryptoDevice({ backend: new WebCryptoCipherBackend(), dataQueues: 65536 })).toThrow(RangeError);
  });
});

describe('cipher service', () => {
  for (const mode of RING_MODES.flatMap((m) => [true, false].map((legacy) => ({ ...m, legacy })))) {
    it(`[crypto.dev.4] AES-CBC and AES-CTR encrypt and decrypt into dst_data (${mode.name}, ${mode.legacy ? 'original layouts' : 'revision 1'})`, async () => {
      const { driver, memory } = rig({ ring: mode.ring, legacy: mode.legacy });
      for (const [algo, name] of [
        [VIRTIO_CRYPTO_CIPHER_AES_CBC, 'aes-128-cbc'],
        [VIRTIO_CRYPTO_CIPHER_AES_CTR, 'aes-128-ctr'],
      ] as const) {
        const enc = await driver.createCipherSession(algo, key, 'encrypt');
        const dec = await driver.createCipherSession(algo, key, 'decrypt');
        expect([enc.status, dec.status]).toEqual([VIRTIO_CRYPTO_OK, VIRTIO_CRYPTO_OK]);
        expect(enc.sessionId).not.toBe(dec.sessionId);
        memory.write(SRC, plain);
        expect(await driver.cipher(enc.sessionId, 'encrypt', iv, [{ addr: SRC, len: 64 }], [{ addr: DST, len: 20 }, { addr: DST + 100, len: 44 }])).toBe(VIRTIO_CRYPTO_OK);
        const ct = new Uint8Array(64);
        memory.read(DST, ct.subarray(0, 20));
        memory.read(DST + 100, ct.subarray(20));
        expect(ct).toEqual(nodeCipher(name, key, plain));
        memory.write(SRC, ct);
        expect(await driver.cipher(dec.sessionId, 'decrypt', iv, [{ addr: SRC, len: 64 }], [{ addr: DST, len: 64 }])).toBe(VIRTIO_CRYPTO_OK);
        expect(memory.view(DST, 64)).toEqual(plain);
        expect(await driver.destroySession(enc.sessionId)).toBe(VIRTIO_CRYPTO_OK);
        expect(await driver.destroySession(dec.sessionId)).toBe(VIRTIO_CRYPTO_OK);
      }
    });
  }

  it('[crypto.dev.4] ERR for CBC data that is not whole blocks or a direction unlike the session', async () => {
    const { driver, memory } = rig();
    const enc = await driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, key, 'encrypt');
    memory.write(SRC, plain);
    expect(await driver.cipher(enc.sessionId, 'encrypt', iv, [{ addr: SRC, len: 15 }], [{ addr: DST, len: 15 }])).toBe(VIRTIO_CRYPTO_ERR);
    expect(await driver.cipher(enc.sessionId, 'decrypt', iv, [{ addr: SRC, len: 16 }], [{ addr: DST, len: 16 }])).toBe(VIRTIO_CRYPTO_ERR);
    expect(await driver.destroySession(enc.sessionId)).toBe(VIRTIO_CRYPTO_OK);
  });

  it('AES-256 keys work; sessions are dropped at reset', async () => {
    const { driver, memory, device } = rig();
    const k = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const s = await driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, k, 'encrypt');
    memory.write(SRC, plain);
    expect(await driver.cipher(s.sessionId, 'encrypt', iv, [{ addr: SRC, len: 33 }], [{ addr: DST, len: 33 }])).toBe(VIRTIO_CRYPTO_OK);
    expect(memory.view(DST, 33)).toEqual(nodeCipher('aes-256-ctr', k, plain.subarray(0, 33)));
    expect(device.sessions).toBe(1);
    await driver.reset();
    expect(device.sessions).toBe(0);
  });
});
