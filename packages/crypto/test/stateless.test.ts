// VIRTIO_CRYPTO_F_REVISION_1 and the stateless modes: the flag decides the mode, session
// parameters travel with stateless requests, layouts follow the negotiated revision.
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { featureMask, hasFeature } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import {
  CryptoDevice,
  CryptoDriver,
  VIRTIO_CRYPTO_AEAD_GCM,
  VIRTIO_CRYPTO_BADMSG,
  VIRTIO_CRYPTO_CIPHER_AES_CBC,
  VIRTIO_CRYPTO_CIPHER_AES_CTR,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
  VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE,
  VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
  VIRTIO_CRYPTO_F_MAC_STATELESS_MODE,
  VIRTIO_CRYPTO_F_REVISION_1,
  VIRTIO_CRYPTO_HASH,
  VIRTIO_CRYPTO_HASH_CREATE_SESSION,
  VIRTIO_CRYPTO_HASH_MD5,
  VIRTIO_CRYPTO_HASH_SHA_256,
  VIRTIO_CRYPTO_HASH_SHA_384,
  VIRTIO_CRYPTO_INVSESS,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_512,
  VIRTIO_CRYPTO_NOSPC,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
} from '../src/index.js';
import { allServices, rig, RING_MODES } from './harness.js';
import { rawRig, REQ, RESP } from './raw.js';

const REV1 = featureMask(VIRTIO_CRYPTO_F_REVISION_1);
const STATELESS = featureMask(VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE, VIRTIO_CRYPTO_F_HASH_STATELESS_MODE, VIRTIO_CRYPTO_F_MAC_STATELESS_MODE, VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE);
const SRC = 0x10000;
const AAD = 0x18000;
const DST = 0x20000;
const data = Uint8Array.from({ length: 96 }, (_, i) => (i * 29 + 3) & 0xff);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('features', () => {
  it('offers REVISION_1 and the stateless mode of each service offered; refuses a stateless mode without REVISION_1', () => {
    const d = new CryptoDevice({ hash: allServices().hash });
    expect(hasFeature(d.deviceFeatures, VIRTIO_CRYPTO_F_REVISION_1)).toBe(true);
    expect(hasFeature(d.deviceFeatures, VIRTIO_CRYPTO_F_HASH_STATELESS_MODE)).toBe(true);
    expect(hasFeature(d.deviceFeatures, VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE)).toBe(false);
    expect(d.validateFeatures(featureMask(VIRTIO_CRYPTO_F_HASH_STATELESS_MODE))).toBe(false);
    expect(d.validateFeatures(featureMask(VIRTIO_CRYPTO_F_HASH_STATELESS_MODE, VIRTIO_CRYPTO_F_REVISION_1))).toBe(true);
    expect(hasFeature(new CryptoDevice({ ...allServices(), revision1: false }).deviceFeatures, VIRTIO_CRYPTO_F_REVISION_1)).toBe(false);
    // The driver never accepts a stateless mode without REVISION_1.
    const memory = new FlatGuestMemory(new Uint8Array(4 << 20));
    const transport = new LoopbackTransport(new CryptoDevice(allServices()), { memory, transport: 'mmio' });
    const driver = new CryptoDriver(transport, { memory, allocator: new BumpAllocator(2 << 20, 2 << 20), wantedFeatures: STATELESS });
    expect(driver.revision1).toBe(false);
    expect([VIRTIO_CRYPTO_SERVICE_CIPHER, VIRTIO_CRYPTO_SERVICE_HASH, VIRTIO_CRYPTO_SERVICE_MAC, VIRTIO_CRYPTO_SERVICE_AEAD].some((s) => driver.statelessMode(s))).toBe(false);
  });
});

describe.each(RING_MODES)('stateless requests through the driver ($name)', ({ ring }) => {
  it('[crypto.drv.5] [crypto.dev.4] CIPHER: flag 0 and sess_para; the device parses them and writes dst_data', async () => {
    const { driver, memory, device } = rig({ ring });
    const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const iv = new Uint8Array(16).fill(0x42);
    memory.write(SRC, data.subarray(0, 64));
    for (const [algo, name] of [
      [VIRTIO_CRYPTO_CIPHER_AES_CBC, 'aes-256-cbc'],
      [VIRTIO_CRYPTO_CIPHER_AES_CTR, 'aes-256-ctr'],
    ] as const) {
      const c = createCipheriv(name, key, iv).setAutoPadding(false);
      const expected = Buffer.concat([c.update(data.subarray(0, 64)), c.final()]);
      expect(await driver.cipherStateless(algo, key, 'encrypt', iv, [{ addr: SRC, len: 64 }], [{ addr: DST, len: 64 }])).toBe(VIRTIO_CRYPTO_OK);
      expect(hex(memory.view(DST, 64))).toBe(hex(expected));
      expect(await driver.cipherStateless(algo, key, 'decrypt', iv, [{ addr: DST, len: 64 }], [{ addr: DST + 0x100, len: 64 }])).toBe(VIRTIO_CRYPTO_OK);
      expect(hex(memory.view(DST + 0x100, 64))).toBe(hex(data.subarray(0, 64)));
    }
    expect(device.sessions).toBe(0);
  });

  it('[crypto.drv.3] [crypto.drv.4] [crypto.dev.2] [crypto.dev.3] HASH and MAC: flag 0 and sess_para; results in hash_result', async () => {
    const { driver, memory } = rig({ ring });
    memory.write(SRC, data);
    expect(await driver.hashStateless(VIRTIO_CRYPTO_HASH_SHA_384, [{ addr: SRC, len: 96 }], [{ addr: DST, len: 48 }])).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(memory.view(DST, 48))).toBe(createHash('sha384').update(data).digest('hex'));
    const key = new Uint8Array(40).fill(7);
    expect(await driver.macStateless(VIRTIO_CRYPTO_MAC_HMAC_SHA_512, key, [{ addr: SRC, len: 96 }], [{ addr: DST, len: 32 }])).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(memory.view(DST, 32))).toBe(hex(createHmac('sha512', key).update(data).digest().subarray(0, 32)));
  });

  it('[crypto.drv.6] [crypto.dev.5] AEAD: flag 0 and sess_para; tag after the ciphertext; BADMSG for a bad tag', async () => {
    const { driver, memory } = rig({ ring });
    const key = new Uint8Array(16).fill(1);
    const iv = new Uint8Array(12).fill(2);
    const aad = new Uint8Array(8).fill(3);
    memory.write(SRC, data.subarray(0, 40));
    memory.write(AAD, aad);
    const c = createCipheriv('aes-128-gcm', key, iv, { authTagLength: 16 });
    c.setAAD(aad);
    const expected = Buffer.concat([c.update(data.subarray(0, 40)), c.final(), c.getAuthTag()]);
    expect(await driver.aeadStateless(VIRTIO_CRYPTO_AEAD_GCM, key, 16, 'encrypt', iv, [{ addr: SRC, len: 40 }], [{ addr: AAD, len: 8 }], [{ addr: DST, len: 56 }])).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(memory.view(DST, 56))).toBe(hex(expected));
    expect(await driver.aeadStateless(VIRTIO_CRYPTO_AEAD_GCM, key, 16, 'decrypt', iv, [{ addr: DST, len: 56 }], [{ addr: AAD, len: 8 }], [{ addr: DST + 0x100, len: 40 }])).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(memory.view(DST + 0x100, 40))).toBe(hex(data.subarray(0, 40)));
    memory.writeU8(AAD, 9);
    expect(await driver.aeadStateless(VIRTIO_CRYPTO_AEAD_GCM, key, 16, 'decrypt', iv, [{ addr: DST, len: 56 }], [{ addr: AAD, len: 8 }], [{ addr: DST + 0x100, len: 40 }])).toBe(VIRTIO_CRYPTO_BADMSG);
  });
});

describe('driver requirements', () => {
  it('[crypto.drv.1] [crypto.drv.5] stateless requests only with the negotiated mode, offered algorithms, keys within limits', async () => {
    const { driver } = rig({ legacy: true });
    await expect(driver.hashStateless(VIRTIO_CRYPTO_HASH_SHA_256, [], [{ addr: DST, len: 32 }])).rejects.toThrow(/stateless mode/);
    const t = rig({ maxSize: 100 });
    await expect(t.driver.hashStateless(VIRTIO_CRYPTO_HASH_MD5, [], [{ addr: DST, len: 16 }])).rejects.toThrow(/not offered/);
    await expect(t.driver.cipherStateless(VIRTIO_CRYPTO_CIPHER_AES_CTR, new Uint8Array(33), 'encrypt', new Uint8Array(16), [], [])).rejects.toThrow(/key/);
    await expect(t.driver.macStateless(VIRTIO_CRYPTO_MAC_HMAC_SHA_512, new Uint8Array(129), [], [{ addr: DST, len: 64 }])).rejects.toThrow(/key/);
    // max_size counts the key: 32 + 16 + 2 * 32 > 100.
    await expect(t.driver.cipherStateless(VIRTIO_CRYPTO_CIPHER_AES_CTR, new Uint8Array(32), 'encrypt', new Uint8Array(16), [{ addr: SRC, len: 32 }], [{ addr: DST, len: 32 }])).rejects.toThrow(/max_size/);
    expect(await t.driver.cipherStateless(VIRTIO_CRYPTO_CIPHER_AES_CTR, new Uint8Array(16), 'encrypt', new Uint8Array(16), [{ addr: SRC, len: 32 }], [{ addr: DST, len: 32 }])).toBe(VIRTIO_CRYPTO_OK);
  });
});

describe('statuses from a hand-built driver with revision 1', () => {
  /** A HASH data request: header with `flag`, then the flf words; src 32 bytes, result 32 bytes. */
  const hashReq = async (t: ReturnType<typeof rawRig>, flag: number, session: bigint, flf: number[]) => {
    t.memory.write(REQ, new Uint8Array(64));
    t.memory.writeU32(REQ, VIRTIO_CRYPTO_HASH);
    t.memory.writeU64(REQ + 8, session);
    t.memory.writeU32(REQ + 16, flag);
    flf.forEach((v, i) => t.memory.writeU32(REQ + 24 + 4 * i, v));
    t.memory.writeU8(RESP, 0xff);
    const len = 24 + (flag === 1 ? 8 : 16);
    await t.submit(0, [{ addr: REQ, len }, { addr: SRC, len: 32 }], [{ addr: DST, len: 32 }, { addr: RESP, len: 1 }]);
    return t.memory.readU8(RESP);
  };
  /** A revision-1 HASH create session (8-byte op_flf): [status, id]. */
  const createHash256 = async (t: ReturnType<typeof rawRig>) => {
    t.memory.write(REQ, new Uint8Array(24));
    t.memory.writeU32(REQ, VIRTIO_CRYPTO_HASH_CREATE_SESSION);
    t.memory.writeU32(REQ + 16, VIRTIO_CRYPTO_HASH_SHA_256);
    t.memory.writeU32(REQ + 20, 32);
    t.memory.write(RESP, new Uint8Array(16).fill(0xff));
    await t.submit(1, [{ addr: REQ, len: 24 }], [{ addr: RESP, len: 16 }]);
    return [t.memory.readU32(RESP + 8), t.memory.readU64(RESP)] as const;
  };

  it('[crypto.dev.2] the flag decides the mode: 1 session, 0 stateless (with the feature), others ERR', async () => {
    const t = rawRig({ ...allServices(), wanted: REV1 | STATELESS });
    t.memory.write(SRC, data.subarray(0, 32));
    const [st, id] = await createHash256(t);
    expect(st).toBe(VIRTIO_CRYPTO_OK);
    expect(await hashReq(t, 1, id, [32, 32])).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(t.memory.view(DST, 32))).toBe(createHash('sha256').update(data.subarray(0, 32)).digest('hex'));
    expect(await hashReq(t, 1, id + 5n, [32, 32])).toBe(VIRTIO_CRYPTO_INVSESS);
    // Stateless: sess_para.algo, src_data_len, hash_result_len; the session id is not looked at.
    t.memory.write(DST, new Uint8Array(32));
    expect(await hashReq(t, 0, 12345n, [VIRTIO_CRYPTO_HASH_SHA_256, 32, 32])).toBe(VIRTIO_CRYPTO_OK);
    expect(hex(t.memory.view(DST, 32))).toBe(createHash('sha256').update(data.subarray(0, 32)).digest('hex'));
    expect(await hashReq(t, 0, 0n, [VIRTIO_CRYPTO_HASH_MD5, 32, 16])).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect(await hashReq(t, 0, 0n, [VIRTIO_CRYPTO_HASH_SHA_256, 32, 33])).toBe(VIRTIO_CRYPTO_ERR);
    expect(await hashReq(t, 2, id, [32, 32])).toBe(VIRTIO_CRYPTO_ERR);
  });

  it('[crypto.dev.3] with REVISION_1 but not the service stateless mode, stateless requests are NOTSUPP', async () => {
    const t = rawRig({ ...allServices(), wanted: REV1 | featureMask(VIRTIO_CRYPTO_F_MAC_STATELESS_MODE) });
    expect(await hashReq(t, 0, 0n, [VIRTIO_CRYPTO_HASH_SHA_256, 32, 32])).toBe(VIRTIO_CRYPTO_NOTSUPP);
    const [, id] = await createHash256(t);
    expect(await hashReq(t, 1, id, [32, 32])).toBe(VIRTIO_CRYPTO_OK);
  });

  it('revision 1: op_flf as long as its structure (a 24-byte HASH create); NOSPC when no session id is free', async () => {
    const t = rawRig({ ...allServices(), wanted: REV1, maxSessions: 1 });
    expect((await createHash256(t))[0]).toBe(VIRTIO_CRYPTO_OK);
    expect((await createHash256(t))[0]).toBe(VIRTIO_CRYPTO_NOSPC);
    // The same 24 bytes without revision 1 are short of the 56-byte op_flf.
    const legacy = rawRig(allServices());
    expect((await createHash256(legacy))[0]).toBe(VIRTIO_CRYPTO_ERR);
  });
});
