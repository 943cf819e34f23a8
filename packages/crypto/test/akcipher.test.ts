// The AKCIPHER service (RSA) through our driver and device, checked against Node's crypto;
// statuses of malformed requests from a hand-built driver.
import { constants, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_DECRYPT,
  VIRTIO_CRYPTO_AKCIPHER_ECDSA,
  VIRTIO_CRYPTO_AKCIPHER_RSA,
  VIRTIO_CRYPTO_AKCIPHER_SIGN,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_HASH_SHA_256,
  VIRTIO_CRYPTO_INVSESS,
  VIRTIO_CRYPTO_KEY_REJECTED,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_RSA_MD2,
  VIRTIO_CRYPTO_RSA_PKCS1_PADDING,
  VIRTIO_CRYPTO_RSA_RAW_PADDING,
  VIRTIO_CRYPTO_RSA_SHA256,
  type RsaKeySpec,
} from '../src/index.js';
import { allServices, rig, RING_MODES } from './harness.js';
import { rawRig, REQ, RESP } from './raw.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const PUB = new Uint8Array(publicKey.export({ type: 'pkcs1', format: 'der' }));
const PRIV = new Uint8Array(privateKey.export({ type: 'pkcs1', format: 'der' }));
const K = 128; // modulus bytes
const PUB_AT = 0x30000;
const PRIV_AT = 0x31000;
const SRC = 0x10000;
const DST = 0x20000;
const message = new TextEncoder().encode('virtio akcipher');
const digest = new Uint8Array(createHash('sha256').update(message).digest());

function keys(memory: { write(addr: number, b: Uint8Array): void }, padding: number, hash = VIRTIO_CRYPTO_RSA_SHA256) {
  memory.write(PUB_AT, PUB);
  memory.write(PRIV_AT, PRIV);
  const pub: RsaKeySpec = { keyType: 'public', key: [{ addr: PUB_AT, len: PUB.length }], padding, hash };
  const priv: RsaKeySpec = { keyType: 'private', key: [{ addr: PRIV_AT, len: PRIV.length }], padding, hash };
  return { pub, priv };
}

describe.each(RING_MODES.flatMap((m) => [true, false].map((legacy) => ({ ...m, legacy }))))('RSA ($name, legacy layouts: $legacy)', ({ ring, legacy }) => {
  it('[crypto.dev.6] [crypto.drv.7] PKCS#1 v1.5 sessions: encrypt, decrypt, sign (as Node signs), verify (KEY_REJECTED when it fails)', async () => {
    const { driver, memory } = rig({ ring, legacy });
    const k = keys(memory, VIRTIO_CRYPTO_RSA_PKCS1_PADDING);
    const pub = await driver.createAkcipherSession(VIRTIO_CRYPTO_AKCIPHER_RSA, k.pub);
    const priv = await driver.createAkcipherSession(VIRTIO_CRYPTO_AKCIPHER_RSA, k.priv);
    expect([pub.status, priv.status]).toEqual([VIRTIO_CRYPTO_OK, VIRTIO_CRYPTO_OK]);
    memory.write(SRC, message);
    expect(await driver.akcipher(pub.sessionId, 'encrypt', [{ addr: SRC, len: message.length }], [{ addr: DST, len: K }])).toEqual({ status: VIRTIO_CRYPTO_OK, length: K });
    const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, memory.view(DST, K));
    expect([em[0], em[1]]).toEqual([0, 2]);
    expect(Buffer.from(em.subarray(K - message.length)).toString()).toBe('virtio akcipher');
    // Decryption: the result is shorter than dst_data; the used length says how long.
    memory.write(SRC, publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message));
    expect(await driver.akcipher(priv.sessionId, 'decrypt', [{ addr: SRC, len: K }], [{ addr: DST, len: K }])).toEqual({ status: VIRTIO_CRYPTO_OK, length: message.length });
    expect(Buffer.from(memory.view(DST, message.length)).toString()).toBe('virtio akcipher');
    // Signing a SHA-256 digest gives Node's RSASSA-PKCS1-v1_5 signature of the message.
    memory.write(SRC, digest);
    expect(await driver.akcipher(priv.sessionId, 'sign', [{ addr: SRC, len: 32 }], [{ addr: DST, len: K }])).toEqual({ status: VIRTIO_CRYPTO_OK, length: K });
    expect(Buffer.from(memory.view(DST, K)).equals(sign('sha256', message, privateKey))).toBe(true);
    // Verify: the signature, then the signed digest, both device-readable.
    expect((await driver.akcipher(pub.sessionId, 'verify', [{ addr: DST, len: K }], [{ addr: SRC, len: 32 }])).status).toBe(VIRTIO_CRYPTO_OK);
    memory.writeU8(SRC, memory.readU8(SRC) ^ 1);
    expect((await driver.akcipher(pub.sessionId, 'verify', [{ addr: DST, len: K }], [{ addr: SRC, len: 32 }])).status).toBe(VIRTIO_CRYPTO_KEY_REJECTED);
    expect(await driver.destroySession(pub.sessionId)).toBe(VIRTIO_CRYPTO_OK);
  });

  it('[crypto.dev.6] raw RSA: k-byte results as Node computes them; raw sessions neither sign nor verify', async () => {
    const { driver, memory } = rig({ ring, legacy });
    const k = keys(memory, VIRTIO_CRYPTO_RSA_RAW_PADDING);
    const pub = await driver.createAkcipherSession(VIRTIO_CRYPTO_AKCIPHER_RSA, k.pub);
    const priv = await driver.createAkcipherSession(VIRTIO_CRYPTO_AKCIPHER_RSA, k.priv);
    const m = new Uint8Array(K);
    m.set(message, 40);
    memory.write(SRC, m);
    expect(await driver.akcipher(pub.sessionId, 'encrypt', [{ addr: SRC, len: K }], [{ addr: DST, len: K }])).toEqual({ status: VIRTIO_CRYPTO_OK, length: K });
    expect(Buffer.from(memory.view(DST, K)).equals(publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, m))).toBe(true);
    expect(await driver.akcipher(priv.sessionId, 'decrypt', [{ addr: DST, len: K }], [{ addr: DST + 0x200, len: K }])).toEqual({ status: VIRTIO_CRYPTO_OK, length: K });
    expect(Buffer.from(memory.view(DST + 0x200, K)).equals(m)).toBe(true);
    expect((await driver.akcipher(priv.sessionId, 'sign', [{ addr: SRC, len: 32 }], [{ addr: DST, len: K }])).status).toBe(VIRTIO_CRYPTO_ERR);
    // A public key cannot decrypt; a result longer than dst_data is an error.
    expect((await driver.akcipher(pub.sessionId, 'decrypt', [{ addr: DST, len: K }], [{ addr: DST + 0x200, len: K }])).status).toBe(VIRTIO_CRYPTO_ERR);
    expect((await driver.akcipher(pub.sessionId, 'encrypt', [{ addr: SRC, len: K }], [{ addr: DST, len: K - 1 }])).status).toBe(VIRTIO_CRYPTO_ERR);
  });
});

describe('stateless AKCIPHER', () => {
  it('[crypto.drv.7] [crypto.dev.6] flag 0 and sess_para with the key: sign and verify without sessions', async () => {
    const { driver, memory, device } = rig();
    const k = keys(memory, VIRTIO_CRYPTO_RSA_PKCS1_PADDING);
    memory.write(SRC, digest);
    expect(await driver.akcipherStateless(VIRTIO_CRYPTO_AKCIPHER_RSA, k.priv, 'sign', [{ addr: SRC, len: 32 }], [{ addr: DST, len: K }])).toEqual({ status: VIRTIO_CRYPTO_OK, length: K });
    expect(Buffer.from(memory.view(DST, K)).equals(sign('sha256', message, privateKey))).toBe(true);
    expect((await driver.akcipherStateless(VIRTIO_CRYPTO_AKCIPHER_RSA, k.pub, 'verify', [{ addr: DST, len: K }], [{ addr: SRC, len: 32 }])).status).toBe(VIRTIO_CRYPTO_OK);
    memory.writeU8(DST + 5, 0);
    expect((await driver.akcipherStateless(VIRTIO_CRYPTO_AKCIPHER_RSA, k.pub, 'verify', [{ addr: DST, len: K }], [{ addr: SRC, len: 32 }])).status).toBe(VIRTIO_CRYPTO_KEY_REJECTED);
    expect(device.sessions).toBe(0);
    const legacy = rig({ legacy: true });
    await expect(legacy.driver.akcipherStateless(VIRTIO_CRYPTO_AKCIPHER_RSA, k.pub, 'verify', [], [])).rejects.toThrow(/stateless mode/);
  });
});

describe('statuses from a hand-built driver', () => {
  /** An AKCIPHER create session (original layout): flf algo, key_type, key_len, padding, hash; the key after. */
  const create = async (t: ReturnType<typeof rawRig>, flf: number[], key: Uint8Array) => {
    t.memory.write(REQ, new Uint8Array(72));
    t.memory.writeU32(REQ, VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION);
    flf.forEach((v, i) => t.memory.writeU32(REQ + 16 + 4 * i, v));
    t.memory.write(REQ + 72, key);
    t.memory.write(RESP, new Uint8Array(16).fill(0xff));
    await t.submit(1, [{ addr: REQ, len: 72 + key.length }], [{ addr: RESP, len: 16 }]);
    return [t.memory.readU32(RESP + 8), t.memory.readU64(RESP)] as const;
  };
  const data = async (t: ReturnType<typeof rawRig>, opcode: number, session: bigint, srcLen: number, dstLen: number) => {
    t.memory.write(REQ, new Uint8Array(72));
    t.memory.writeU32(REQ, opcode);
    t.memory.writeU64(REQ + 8, session);
    t.memory.writeU32(REQ + 24, srcLen);
    t.memory.writeU32(REQ + 28, dstLen);
    t.memory.writeU8(RESP, 0xff);
    await t.submit(0, [{ addr: REQ, len: 72 }, { addr: SRC, len: srcLen }], [{ addr: DST, len: dstLen }, { addr: RESP, len: 1 }]);
    return t.memory.readU8(RESP);
  };

  it('[crypto.dev.6] NOTSUPP for ECDSA and unsupported hashes, ERR for bad key types and malformed keys, INVSESS for other sessions', async () => {
    const t = rawRig(allServices());
    const P = VIRTIO_CRYPTO_RSA_PKCS1_PADDING;
    expect((await create(t, [VIRTIO_CRYPTO_AKCIPHER_ECDSA, 2, PRIV.length, 3], PRIV))[0]).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect((await create(t, [VIRTIO_CRYPTO_AKCIPHER_RSA, 2, PRIV.length, P, VIRTIO_CRYPTO_RSA_MD2], PRIV))[0]).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect((await create(t, [VIRTIO_CRYPTO_AKCIPHER_RSA, 3, PRIV.length, P, VIRTIO_CRYPTO_RSA_SHA256], PRIV))[0]).toBe(VIRTIO_CRYPTO_ERR);
    expect((await create(t, [VIRTIO_CRYPTO_AKCIPHER_RSA, 1, PRIV.length, P, VIRTIO_CRYPTO_RSA_SHA256], PRIV))[0]).toBe(VIRTIO_CRYPTO_ERR); // a private key as public
    expect((await create(t, [VIRTIO_CRYPTO_AKCIPHER_RSA, 2, 40, P, VIRTIO_CRYPTO_RSA_SHA256], PRIV.subarray(0, 40)))[0]).toBe(VIRTIO_CRYPTO_ERR);
    expect((await create(t, [VIRTIO_CRYPTO_AKCIPHER_RSA, 2, PRIV.length + 1, P, VIRTIO_CRYPTO_RSA_SHA256], PRIV))[0]).toBe(VIRTIO_CRYPTO_ERR); // key beyond the request
    const [st, id] = await create(t, [VIRTIO_CRYPTO_AKCIPHER_RSA, 2, PRIV.length, P, VIRTIO_CRYPTO_RSA_SHA256], PRIV);
    expect(st).toBe(VIRTIO_CRYPTO_OK);
    t.memory.write(SRC, digest);
    expect(await data(t, VIRTIO_CRYPTO_AKCIPHER_SIGN, id, 32, K)).toBe(VIRTIO_CRYPTO_OK);
    expect(await data(t, VIRTIO_CRYPTO_AKCIPHER_SIGN, id, 31, K)).toBe(VIRTIO_CRYPTO_ERR); // not a SHA-256 digest
    expect(await data(t, VIRTIO_CRYPTO_AKCIPHER_SIGN, id, 32, K - 1)).toBe(VIRTIO_CRYPTO_ERR); // dst too short
    expect(await data(t, VIRTIO_CRYPTO_AKCIPHER_DECRYPT, id + 9n, K, K)).toBe(VIRTIO_CRYPTO_INVSESS);
    const h = await t.submit(1, [(() => {
      t.memory.write(REQ, new Uint8Array(72));
      t.memory.writeU32(REQ, 0x102);
      t.memory.writeU32(REQ + 16, VIRTIO_CRYPTO_HASH_SHA_256);
      t.memory.writeU32(REQ + 20, 32);
      return { addr: REQ, len: 72 };
    })()], [{ addr: RESP, len: 16 }]);
    expect(h).not.toBeNull();
    expect(await data(t, VIRTIO_CRYPTO_AKCIPHER_SIGN, t.memory.readU64(RESP), 32, K)).toBe(VIRTIO_CRYPTO_INVSESS); // a HASH session
    // Without the AKCIPHER service: NOTSUPP.
    const none = rawRig();
    expect((await create(none, [VIRTIO_CRYPTO_AKCIPHER_RSA, 2, PRIV.length, P, VIRTIO_CRYPTO_RSA_SHA256], PRIV))[0]).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect(await data(none, VIRTIO_CRYPTO_AKCIPHER_SIGN, 1n, 32, K)).toBe(VIRTIO_CRYPTO_NOTSUPP);
  });

  it('[crypto.drv.7] the driver uses only AKCIPHER sessions the device created', async () => {
    const { driver } = rig();
    const h = await driver.createHashSession(VIRTIO_CRYPTO_HASH_SHA_256, 32);
    await expect(driver.akcipher(h.sessionId, 'sign', [{ addr: SRC, len: 32 }], [{ addr: DST, len: K }])).rejects.toThrow(/AKCIPHER/);
    await expect(driver.akcipher(77n, 'encrypt', [{ addr: SRC, len: 32 }], [{ addr: DST, len: K }])).rejects.toThrow(RangeError);
    await expect(driver.createAkcipherSession(VIRTIO_CRYPTO_AKCIPHER_ECDSA, { keyType: 'public', key: [], padding: 0, hash: 0 })).rejects.toThrow(/not offered/);
  });
});
