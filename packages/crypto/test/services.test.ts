// HASH, MAC and AEAD sessions and operations through our driver and device, checked against
// Node's crypto; statuses of malformed requests from a hand-built driver.
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CryptoConfigOffset as O,
  CryptoDevice,
  VIRTIO_CRYPTO_AEAD_DECRYPT,
  VIRTIO_CRYPTO_AEAD_ENCRYPT,
  VIRTIO_CRYPTO_AEAD_GCM,
  VIRTIO_CRYPTO_BADMSG,
  VIRTIO_CRYPTO_CIPHER_AES_CTR,
  VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_HASH,
  VIRTIO_CRYPTO_HASH_CREATE_SESSION,
  VIRTIO_CRYPTO_HASH_DESTROY_SESSION,
  VIRTIO_CRYPTO_HASH_MD5,
  VIRTIO_CRYPTO_HASH_SHA1,
  VIRTIO_CRYPTO_HASH_SHA_224,
  VIRTIO_CRYPTO_HASH_SHA_256,
  VIRTIO_CRYPTO_HASH_SHA_384,
  VIRTIO_CRYPTO_HASH_SHA_512,
  VIRTIO_CRYPTO_INVSESS,
  VIRTIO_CRYPTO_MAC,
  VIRTIO_CRYPTO_MAC_CMAC_AES,
  VIRTIO_CRYPTO_MAC_CREATE_SESSION,
  VIRTIO_CRYPTO_MAC_HMAC_SHA1,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_224,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_256,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_384,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_512,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_AEAD_CREATE_SESSION,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
} from '../src/index.js';
import { allServices, RING_MODES, rig } from './harness.js';
import { rawRig, REQ, RESP } from './raw.js';

const SRC = 0x10000;
const AAD = 0x18000;
const DST = 0x20000;
const data = Uint8Array.from({ length: 200 }, (_, i) => (i * 13 + 5) & 0xff);
const SHA = [
  [VIRTIO_CRYPTO_HASH_SHA1, 'sha1'],
  [VIRTIO_CRYPTO_HASH_SHA_224, 'sha224'],
  [VIRTIO_CRYPTO_HASH_SHA_256, 'sha256'],
  [VIRTIO_CRYPTO_HASH_SHA_384, 'sha384'],
  [VIRTIO_CRYPTO_HASH_SHA_512, 'sha512'],
] as const;
const HMAC = [VIRTIO_CRYPTO_MAC_HMAC_SHA1, VIRTIO_CRYPTO_MAC_HMAC_SHA_224, VIRTIO_CRYPTO_MAC_HMAC_SHA_256, VIRTIO_CRYPTO_MAC_HMAC_SHA_384, VIRTIO_CRYPTO_MAC_HMAC_SHA_512];

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('configuration', () => {
  it('[crypto.dev.1] crypto_services and the HASH, MAC and AEAD masks show what is implemented; max_auth_key_len with MAC', () => {
    const d = new CryptoDevice(allServices());
    const services = (1 << VIRTIO_CRYPTO_SERVICE_CIPHER) | (1 << VIRTIO_CRYPTO_SERVICE_HASH) | (1 << VIRTIO_CRYPTO_SERVICE_MAC) | (1 << VIRTIO_CRYPTO_SERVICE_AEAD) | (1 << 4);
    expect(d.readConfig(O.crypto_services, 4)).toBe(services);
    expect(d.readConfig(O.hash_algo, 4)).toBe(SHA.reduce((m, [a]) => m | (1 << a), 0));
    expect(d.readConfig(O.mac_algo_l, 4)).toBe(HMAC.reduce((m, a) => m | (1 << a), 0));
    expect(d.readConfig(O.mac_algo_h, 4)).toBe(0);
    expect(d.readConfig(O.aead_algo, 4)).toBe(1 << VIRTIO_CRYPTO_AEAD_GCM);
    expect(d.readConfig(O.akcipher_algo, 4)).toBe(1 << 1); // RSA
    expect(d.readConfig(O.max_auth_key_len, 4)).toBe(128);
    expect(d.readConfig(O.max_cipher_key_len, 4)).toBe(32);
    // A device with HASH alone: no other mask, no key lengths.
    const h = new CryptoDevice({ hash: allServices().hash });
    expect(h.readConfig(O.crypto_services, 4)).toBe(1 << VIRTIO_CRYPTO_SERVICE_HASH);
    expect([O.cipher_algo_l, O.mac_algo_l, O.aead_algo, O.akcipher_algo, O.max_cipher_key_len, O.max_auth_key_len].map((o) => h.readConfig(o, 4))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('[crypto.drv.2] the driver reads the masks of the services offered, and only those', () => {
    const { driver } = rig();
    expect(driver.config.hashAlgos).toBe(SHA.reduce((m, [a]) => m | (1 << a), 0));
    expect(driver.config.macAlgos).toBe(BigInt(HMAC.reduce((m, a) => m | (1 << a), 0)));
    expect(driver.config.aeadAlgos).toBe(1 << VIRTIO_CRYPTO_AEAD_GCM);
    expect(driver.config.maxAuthKeyLen).toBe(128);
    expect(driver.config.akcipherAlgos).toBe(1 << 1);
    const only = rig({ backend: undefined, mac: undefined, aead: undefined, akcipher: undefined });
    expect(only.driver.config).toMatchObject({ cryptoServices: 1 << VIRTIO_CRYPTO_SERVICE_HASH, cipherAlgos: 0n, macAlgos: 0n, aeadAlgos: 0, akcipherAlgos: 0, maxCipherKeyLen: 0, maxAuthKeyLen: 0 });
  });
});

const MODES = RING_MODES.flatMap((m) => [
  { ...m, legacy: true, layout: 'original layouts' },
  { ...m, legacy: false, layout: 'revision 1' },
]);

describe.each(MODES)('HASH, MAC and AEAD ($name, $layout)', ({ ring, legacy }) => {
  it('[crypto.dev.2] [crypto.drv.3] HASH: every SHA digest (whole and truncated) lands in hash_result with OK', async () => {
    const { driver, memory } = rig({ ring, legacy });
    memory.write(SRC, data);
    for (const [algo, name] of SHA) {
      const full = createHash(name).update(data).digest();
      for (const len of [full.length, 12]) {
        const s = await driver.createHashSession(algo, len);
        expect(s.status).toBe(VIRTIO_CRYPTO_OK);
        memory.write(DST, new Uint8Array(80).fill(0xee));
        expect(await driver.hash(s.sessionId, [{ addr: SRC, len: 100 }, { addr: SRC + 100, len: 100 }], [{ addr: DST, len: len }])).toBe(VIRTIO_CRYPTO_OK);
        expect(hex(memory.view(DST, len))).toBe(hex(full.subarray(0, len)));
        expect(memory.readU8(DST + len)).toBe(0xee);
        expect(await driver.destroySession(s.sessionId)).toBe(VIRTIO_CRYPTO_OK);
      }
    }
    const empty = await driver.createHashSession(VIRTIO_CRYPTO_HASH_SHA_256, 32);
    expect(await driver.hash(empty.sessionId, [], [{ addr: DST, len: 32 }])).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(memory.view(DST, 32))).toBe(createHash('sha256').digest('hex'));
  });

  it('[crypto.dev.3] [crypto.drv.4] MAC: HMAC-SHA* with empty, short and long keys lands in hash_result with OK', async () => {
    const { driver, memory } = rig({ ring, legacy });
    memory.write(SRC, data);
    for (const [i, algo] of HMAC.entries()) {
      const name = SHA[i][1];
      for (const keyLen of [0, 20, 128]) {
        const key = Uint8Array.from({ length: keyLen }, (_, j) => j ^ 0x5a);
        const full = createHmac(name, key).update(data).digest();
        const s = await driver.createMacSession(algo, full.length, key);
        expect(s.status).toBe(VIRTIO_CRYPTO_OK);
        expect(await driver.mac(s.sessionId, [{ addr: SRC, len: data.length }], [{ addr: DST, len: full.length }])).toBe(VIRTIO_CRYPTO_OK);
        expect(hex(memory.view(DST, full.length))).toBe(hex(full));
      }
    }
  });

  it('[crypto.dev.5] [crypto.drv.6] AEAD: AES-GCM ciphertext then tag in dst_data; decryption verifies (BADMSG for a bad tag)', async () => {
    const { driver, memory } = rig({ ring, legacy });
    const key = Uint8Array.from({ length: 16 }, (_, i) => i * 3);
    const iv = Uint8Array.from({ length: 12 }, (_, i) => 0x40 + i);
    const aad = Uint8Array.from({ length: 20 }, (_, i) => i);
    memory.write(SRC, data.subarray(0, 50));
    memory.write(AAD, aad);
    for (const tagLen of [16, 12]) {
      const c = createCipheriv('aes-128-gcm', key, iv, { authTagLength: tagLen });
      c.setAAD(aad);
      const expected = Buffer.concat([c.update(data.subarray(0, 50)), c.final(), c.getAuthTag()]);
      const enc = await driver.createAeadSession(VIRTIO_CRYPTO_AEAD_GCM, key, tagLen, 'encrypt', aad.length);
      const dec = await driver.createAeadSession(VIRTIO_CRYPTO_AEAD_GCM, key, tagLen, 'decrypt', aad.length);
      expect([enc.status, dec.status]).toEqual([VIRTIO_CRYPTO_OK, VIRTIO_CRYPTO_OK]);
      const sealed = [{ addr: DST, len: 50 + tagLen }];
      expect(await driver.aead(enc.sessionId, 'encrypt', iv, [{ addr: SRC, len: 50 }], [{ addr: AAD, len: 20 }], sealed)).toBe(VIRTIO_CRYPTO_OK);
      expect(hex(memory.view(DST, 50 + tagLen))).toBe(hex(expected));
      const plain = [{ addr: DST + 0x1000, len: 50 }];
      expect(await driver.aead(dec.sessionId, 'decrypt', iv, sealed, [{ addr: AAD, len: 20 }], plain)).toBe(VIRTIO_CRYPTO_OK);
      expect(hex(memory.view(DST + 0x1000, 50))).toBe(hex(data.subarray(0, 50)));
      memory.writeU8(DST + 50, memory.readU8(DST + 50) ^ 1); // tamper with the tag
      memory.write(DST + 0x1000, new Uint8Array(50));
      expect(await driver.aead(dec.sessionId, 'decrypt', iv, sealed, [{ addr: AAD, len: 20 }], plain)).toBe(VIRTIO_CRYPTO_BADMSG);
      expect(memory.view(DST + 0x1000, 50).every((b) => b === 0)).toBe(true);
    }
  });
});

describe('driver requirements', () => {
  it('[crypto.drv.3] [crypto.drv.4] [crypto.drv.6] each operation uses only a session the device assigned for that service', async () => {
    const { driver } = rig();
    const hash = await driver.createHashSession(VIRTIO_CRYPTO_HASH_SHA_256, 32);
    const mac = await driver.createMacSession(VIRTIO_CRYPTO_MAC_HMAC_SHA_256, 32, new Uint8Array(16));
    const aead = await driver.createAeadSession(VIRTIO_CRYPTO_AEAD_GCM, new Uint8Array(16), 16, 'encrypt');
    const src = [{ addr: SRC, len: 16 }];
    const res = [{ addr: DST, len: 32 }];
    await expect(driver.hash(mac.sessionId, src, res)).rejects.toThrow(/not created by the device as a HASH/);
    await expect(driver.mac(hash.sessionId, src, res)).rejects.toThrow(/not created by the device as a MAC/);
    await expect(driver.aead(hash.sessionId, 'encrypt', new Uint8Array(12), src, [], res)).rejects.toThrow(/AEAD/);
    await expect(driver.aead(aead.sessionId, 'decrypt', new Uint8Array(12), res, [], src)).rejects.toThrow(/AEAD decrypt/);
    await expect(driver.hash(99n, src, res)).rejects.toThrow(RangeError);
    // Result buffers must be hash_result_len long; AEAD dst src + tag_len.
    await expect(driver.hash(hash.sessionId, src, [{ addr: DST, len: 20 }])).rejects.toThrow(RangeError);
    await expect(driver.aead(aead.sessionId, 'encrypt', new Uint8Array(12), src, [], [{ addr: DST, len: 16 }])).rejects.toThrow(RangeError);
    expect(await driver.destroySession(hash.sessionId)).toBe(VIRTIO_CRYPTO_OK);
    await expect(driver.hash(hash.sessionId, src, res)).rejects.toThrow(RangeError);
    expect(await driver.hash((await driver.createHashSession(VIRTIO_CRYPTO_HASH_SHA_256, 32)).sessionId, src, res)).toBe(VIRTIO_CRYPTO_OK);
  });

  it('[crypto.drv.1] keeps MAC keys within max_auth_key_len and requests within max_size; refuses algorithms not offered', async () => {
    const { driver } = rig({ maxSize: 64 });
    await expect(driver.createMacSession(VIRTIO_CRYPTO_MAC_HMAC_SHA_256, 32, new Uint8Array(129))).rejects.toThrow(/max_auth_key_len/);
    await expect(driver.createMacSession(VIRTIO_CRYPTO_MAC_CMAC_AES, 16, new Uint8Array(16))).rejects.toThrow(/not offered/);
    await expect(driver.createHashSession(VIRTIO_CRYPTO_HASH_MD5, 16)).rejects.toThrow(/not offered/);
    await expect(driver.createAeadSession(VIRTIO_CRYPTO_AEAD_GCM, new Uint8Array(33), 16, 'encrypt')).rejects.toThrow(/max_cipher_key_len/);
    const s = await driver.createHashSession(VIRTIO_CRYPTO_HASH_SHA_256, 32);
    await expect(driver.hash(s.sessionId, [{ addr: SRC, len: 33 }], [{ addr: DST, len: 32 }])).rejects.toThrow(/max_size/);
    expect(await driver.hash(s.sessionId, [{ addr: SRC, len: 32 }], [{ addr: DST, len: 32 }])).toBe(VIRTIO_CRYPTO_OK);
  });
});

describe('statuses from a hand-built driver', () => {
  /** A create-session request: header, `flf` words, the key; returns its segment. */
  const create = (t: ReturnType<typeof rawRig>, opcode: number, flf: number[], key = new Uint8Array(0)) => {
    t.memory.write(REQ, new Uint8Array(72));
    t.memory.writeU32(REQ, opcode);
    flf.forEach((v, i) => t.memory.writeU32(REQ + 16 + 4 * i, v));
    t.memory.write(REQ + 72, key);
    return { addr: REQ, len: 72 + key.length };
  };
  const createStatus = async (t: ReturnType<typeof rawRig>, seg: { addr: number; len: number }) => {
    t.memory.write(RESP, new Uint8Array(16).fill(0xff));
    await t.submit(1, [seg], [{ addr: RESP, len: 16 }]);
    return { status: t.memory.readU32(RESP + 8), id: t.memory.readU64(RESP) };
  };
  /** A data request (header, flf words) with src, a result buffer and the status byte; returns the status. */
  const dataStatus = async (t: ReturnType<typeof rawRig>, opcode: number, session: bigint, flf: number[], srcLen: number, dstLen: number) => {
    t.memory.write(REQ, new Uint8Array(72));
    t.memory.writeU32(REQ, opcode);
    t.memory.writeU64(REQ + 8, session);
    flf.forEach((v, i) => t.memory.writeU32(REQ + 24 + 4 * i, v));
    t.memory.writeU8(RESP, 0xff);
    const out = [{ addr: REQ, len: 72 }, ...(srcLen > 0 ? [{ addr: SRC, len: srcLen }] : [])];
    await t.submit(0, out, [...(dstLen > 0 ? [{ addr: DST, len: dstLen }] : []), { addr: RESP, len: 1 }]);
    return t.memory.readU8(RESP);
  };

  it('[crypto.dev.2] HASH: NOTSUPP for algorithms not offered, ERR for result lengths beyond the digest or the session, INVSESS for other sessions', async () => {
    const t = rawRig(allServices());
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_HASH_CREATE_SESSION, [VIRTIO_CRYPTO_HASH_MD5, 16]))).status).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_HASH_CREATE_SESSION, [VIRTIO_CRYPTO_HASH_SHA1, 21]))).status).toBe(VIRTIO_CRYPTO_ERR);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_HASH_CREATE_SESSION, [VIRTIO_CRYPTO_HASH_SHA1, 0]))).status).toBe(VIRTIO_CRYPTO_ERR);
    const h = await createStatus(t, create(t, VIRTIO_CRYPTO_HASH_CREATE_SESSION, [VIRTIO_CRYPTO_HASH_SHA1, 20]));
    expect(h.status).toBe(VIRTIO_CRYPTO_OK);
    t.memory.write(SRC, data);
    expect(await dataStatus(t, VIRTIO_CRYPTO_HASH, h.id, [64, 20], 64, 20)).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(t.memory.view(DST, 20))).toBe(createHash('sha1').update(data.subarray(0, 64)).digest('hex'));
    expect(await dataStatus(t, VIRTIO_CRYPTO_HASH, h.id, [64, 16], 64, 20)).toBe(VIRTIO_CRYPTO_ERR); // not the session's length
    expect(await dataStatus(t, VIRTIO_CRYPTO_HASH, h.id, [65, 20], 64, 20)).toBe(VIRTIO_CRYPTO_ERR); // src beyond the chain
    expect(await dataStatus(t, VIRTIO_CRYPTO_HASH, h.id, [64, 20], 64, 19)).toBe(VIRTIO_CRYPTO_ERR); // result beyond the chain
    expect(await dataStatus(t, VIRTIO_CRYPTO_HASH, h.id + 1n, [64, 20], 64, 20)).toBe(VIRTIO_CRYPTO_INVSESS);
    expect(await dataStatus(t, VIRTIO_CRYPTO_MAC, h.id, [64, 20], 64, 20)).toBe(VIRTIO_CRYPTO_INVSESS); // a HASH session for MAC
  });

  it('[crypto.dev.3] MAC: NOTSUPP for algorithms not offered, ERR for keys beyond max_auth_key_len or the request, INVSESS for other sessions', async () => {
    const t = rawRig(allServices());
    const key = new Uint8Array(16).fill(3);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_MAC_CREATE_SESSION, [VIRTIO_CRYPTO_MAC_CMAC_AES, 16, 16], key))).status).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_MAC_CREATE_SESSION, [VIRTIO_CRYPTO_MAC_HMAC_SHA_256, 32, 129], new Uint8Array(129)))).status).toBe(VIRTIO_CRYPTO_ERR);
    expect((await createStatus(t, { ...create(t, VIRTIO_CRYPTO_MAC_CREATE_SESSION, [VIRTIO_CRYPTO_MAC_HMAC_SHA_256, 32, 16], key), len: 80 })).status).toBe(VIRTIO_CRYPTO_ERR);
    const s = await createStatus(t, create(t, VIRTIO_CRYPTO_MAC_CREATE_SESSION, [VIRTIO_CRYPTO_MAC_HMAC_SHA_256, 16, 16], key));
    expect(s.status).toBe(VIRTIO_CRYPTO_OK);
    t.memory.write(SRC, data);
    expect(await dataStatus(t, VIRTIO_CRYPTO_MAC, s.id, [100, 16], 100, 16)).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(t.memory.view(DST, 16))).toBe(hex(createHmac('sha256', key).update(data.subarray(0, 100)).digest().subarray(0, 16)));
    expect(await dataStatus(t, VIRTIO_CRYPTO_HASH, s.id, [100, 16], 100, 16)).toBe(VIRTIO_CRYPTO_INVSESS);
    // Destroy only with the service's own opcode.
    const destroy = async (opcode: number) => {
      t.memory.write(REQ, new Uint8Array(72));
      t.memory.writeU32(REQ, opcode);
      t.memory.writeU64(REQ + 16, s.id);
      t.memory.writeU8(RESP, 0xff);
      await t.submit(1, [{ addr: REQ, len: 72 }], [{ addr: RESP, len: 1 }]);
      return t.memory.readU8(RESP);
    };
    expect(await destroy(VIRTIO_CRYPTO_HASH_DESTROY_SESSION)).toBe(VIRTIO_CRYPTO_ERR);
    expect(await destroy(VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION)).toBe(VIRTIO_CRYPTO_ERR);
    expect(await destroy(VIRTIO_CRYPTO_HASH_DESTROY_SESSION + 0x100)).toBe(VIRTIO_CRYPTO_OK); // MAC destroy
    expect(await dataStatus(t, VIRTIO_CRYPTO_MAC, s.id, [100, 16], 100, 16)).toBe(VIRTIO_CRYPTO_INVSESS);
  });

  it('[crypto.dev.5] AEAD: NOTSUPP for CCM and tag lengths WebCrypto lacks, ERR for lengths that do not fit, a wrong IV length or direction', async () => {
    const t = rawRig(allServices());
    const key = new Uint8Array(16).fill(9);
    // flf: algo, key_len, tag_len, aad_len, op
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_AEAD_CREATE_SESSION, [2, 16, 16, 0, 1], key))).status).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_AEAD_CREATE_SESSION, [VIRTIO_CRYPTO_AEAD_GCM, 16, 5, 0, 1], key))).status).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_AEAD_CREATE_SESSION, [VIRTIO_CRYPTO_AEAD_GCM, 16, 16, 0, 9], key))).status).toBe(VIRTIO_CRYPTO_ERR);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_AEAD_CREATE_SESSION, [VIRTIO_CRYPTO_AEAD_GCM, 40, 16, 0, 1], new Uint8Array(40)))).status).toBe(VIRTIO_CRYPTO_ERR);
    const s = await createStatus(t, create(t, VIRTIO_CRYPTO_AEAD_CREATE_SESSION, [VIRTIO_CRYPTO_AEAD_GCM, 16, 16, 0, 1], key));
    expect(s.status).toBe(VIRTIO_CRYPTO_OK);
    // vlf readable: iv (12) then src (32) then aad (0); flf: iv_len, aad_len, src_len, dst_len, tag_len
    t.memory.write(SRC, new Uint8Array(44).fill(1));
    expect(await dataStatus(t, VIRTIO_CRYPTO_AEAD_ENCRYPT, s.id, [12, 0, 32, 48, 16], 44, 48)).toBe(VIRTIO_CRYPTO_OK);
    expect(await dataStatus(t, VIRTIO_CRYPTO_AEAD_ENCRYPT, s.id, [12, 0, 32, 47, 16], 44, 47)).toBe(VIRTIO_CRYPTO_ERR); // dst short of src + tag
    expect(await dataStatus(t, VIRTIO_CRYPTO_AEAD_ENCRYPT, s.id, [12, 0, 32, 48, 12], 44, 48)).toBe(VIRTIO_CRYPTO_ERR); // not the session's tag_len
    expect(await dataStatus(t, VIRTIO_CRYPTO_AEAD_ENCRYPT, s.id, [12, 8, 32, 48, 16], 44, 48)).toBe(VIRTIO_CRYPTO_ERR); // aad beyond the chain
    expect(await dataStatus(t, VIRTIO_CRYPTO_AEAD_ENCRYPT, s.id, [8, 0, 32, 48, 16], 40, 48)).toBe(VIRTIO_CRYPTO_ERR); // IV WebCrypto refuses
    expect(await dataStatus(t, VIRTIO_CRYPTO_AEAD_DECRYPT, s.id, [12, 0, 32, 16, 16], 44, 16)).toBe(VIRTIO_CRYPTO_ERR); // an encrypt session
    expect(await dataStatus(t, VIRTIO_CRYPTO_AEAD_ENCRYPT, 1234n, [12, 0, 32, 48, 16], 44, 48)).toBe(VIRTIO_CRYPTO_INVSESS);
  });

  it('[crypto.dev.4] services not offered are NOTSUPP at session creation and on the data queue', async () => {
    const t = rawRig({ backend: undefined, hash: allServices().hash });
    expect((await createStatus(t, create(t, 0x02, [VIRTIO_CRYPTO_CIPHER_AES_CTR, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], new Uint8Array(16)))).status).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect((await createStatus(t, create(t, VIRTIO_CRYPTO_MAC_CREATE_SESSION, [VIRTIO_CRYPTO_MAC_HMAC_SHA_256, 32, 0]))).status).toBe(VIRTIO_CRYPTO_NOTSUPP);
    const h = await createStatus(t, create(t, VIRTIO_CRYPTO_HASH_CREATE_SESSION, [VIRTIO_CRYPTO_HASH_SHA_512, 64]));
    expect(await dataStatus(t, 0x000, h.id, [16, 16, 16], 32, 16)).toBe(VIRTIO_CRYPTO_NOTSUPP); // CIPHER_ENCRYPT
    expect(await dataStatus(t, VIRTIO_CRYPTO_MAC, h.id, [16, 64], 16, 64)).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect(await dataStatus(t, VIRTIO_CRYPTO_HASH, h.id, [16, 64], 16, 64)).toBe(VIRTIO_CRYPTO_OK);
  });
});
