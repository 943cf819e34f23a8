/**
 * AKCIPHER service for RSA (VIRTIO_CRYPTO_AKCIPHER_RSA) in plain TypeScript on BigInt: raw RSA
 * and PKCS#1 v1.5 (RFC 8017: RSAES-PKCS1-v1_5 encryption, EMSA-PKCS1-v1_5 signatures over a
 * digest the driver computed, with the DigestInfo of `hash_algo`, or none for
 * VIRTIO_CRYPTO_RSA_NO_HASH). WebCrypto has no raw RSA and signs messages, not digests, so it
 * cannot serve the spec's operations. Keys of 512 to 4096 bits (Linux's RSA limit) with public
 * exponents below 2^32, which bounds the work one request can cost. The arithmetic is not
 * constant-time: it suits testing and guests without side-channel adversaries on the host.
 */
import type { AkcipherBackend, AkcipherSession } from '../backend.js';
import {
  VIRTIO_CRYPTO_AKCIPHER_RSA,
  VIRTIO_CRYPTO_RSA_MD5,
  VIRTIO_CRYPTO_RSA_NO_HASH,
  VIRTIO_CRYPTO_RSA_PKCS1_PADDING,
  VIRTIO_CRYPTO_RSA_RAW_PADDING,
  VIRTIO_CRYPTO_RSA_SHA1,
  VIRTIO_CRYPTO_RSA_SHA224,
  VIRTIO_CRYPTO_RSA_SHA256,
  VIRTIO_CRYPTO_RSA_SHA384,
  VIRTIO_CRYPTO_RSA_SHA512,
} from '../protocol.js';
import { derIntegerSequence } from './der.js';

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
/** DER DigestInfo prefixes (RFC 8017 section 9.2 note 1), by hash_algo; the digest follows. */
const DIGEST_INFO: Readonly<Record<number, { prefix: Uint8Array; len: number }>> = {
  [VIRTIO_CRYPTO_RSA_NO_HASH]: { prefix: new Uint8Array(0), len: -1 },
  [VIRTIO_CRYPTO_RSA_MD5]: { prefix: hex('3020300c06082a864886f70d020505000410'), len: 16 },
  [VIRTIO_CRYPTO_RSA_SHA1]: { prefix: hex('3021300906052b0e03021a05000414'), len: 20 },
  [VIRTIO_CRYPTO_RSA_SHA224]: { prefix: hex('302d300d06096086480165030402040500041c'), len: 28 },
  [VIRTIO_CRYPTO_RSA_SHA256]: { prefix: hex('3031300d060960864801650304020105000420'), len: 32 },
  [VIRTIO_CRYPTO_RSA_SHA384]: { prefix: hex('3041300d060960864801650304020205000430'), len: 48 },
  [VIRTIO_CRYPTO_RSA_SHA512]: { prefix: hex('3051300d060960864801650304020305000440'), len: 64 },
};

/** PKCS#1 padding needs at least 8 bytes of padding string plus 3 fixed bytes. */
const PKCS1_OVERHEAD = 11;

function os2ip(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function i2osp(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0 && v > 0n; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
  }
  return result;
}

const fail = (why: string): never => {
  throw new RangeError(`crypto: RSA ${why}`);
};

interface RsaKey {
  readonly n: bigint;
  readonly e: bigint;
  /** Private keys: d and the CRT values (p, q, dp, dq, qinv). */
  readonly priv?: { readonly d: bigint; readonly p: bigint; readonly q: bigint; readonly dp: bigint; readonly dq: bigint; readonly qinv: bigint };
}

class RsaSession implements AkcipherSession {
  readonly #k: number;
  constructor(
    readonly key: RsaKey,
    readonly pkcs1: boolean,
    readonly digest: { prefix: Uint8Array; len: number },
    readonly random: (b: Uint8Array) => void,
  ) {
    this.#k = Math.ceil(key.n.toString(16).length / 2);
  }

  #public(m: Uint8Array): Uint8Array {
    const v = os2ip(m);
    if (m.length > this.#k || v >= this.key.n) fail('input not below the modulus');
    return i2osp(modPow(v, this.key.e, this.key.n), this.#k);
  }

  #private(c: Uint8Array): Uint8Array {
    const p = this.key.priv ?? fail('operation needs a private key');
    const v = os2ip(c);
    if (c.length > this.#k || v >= this.key.n) fail('input not below the modulus');
    // CRT (RFC 8017 section 5.1.2).
    const m1 = modPow(v, p.dp, p.p);
    const m2 = modPow(v, p.dq, p.q);
    const h = (((m1 - m2) % p.p) + p.p) % p.p;
    return i2osp(m2 + ((p.qinv * h) % p.p) * p.q, this.#k);
  }

  /** EMSA-PKCS1-v1_5 of a digest (with its DigestInfo unless NO_HASH). */
  #emsa(data: Uint8Array): Uint8Array {
    const d = this.digest;
    if (d.len >= 0 && data.length !== d.len) fail(`digest of ${data.length} bytes for a ${d.len}-byte hash`);
    const t = d.prefix.length + data.length;
    if (t > this.#k - PKCS1_OVERHEAD) fail('digest too long for the key');
    const em = new Uint8Array(this.#k).fill(0xff);
    em[0] = 0;
    em[1] = 1;
    em[this.#k - t - 1] = 0;
    em.set(d.prefix, this.#k - t);
    em.set(data, this.#k - data.length);
    return em;
  }

  async encrypt(src: Uint8Array): Promise<Uint8Array> {
    if (!this.pkcs1) return this.#public(src);
    // RSAES-PKCS1-v1_5: 00 02 PS (non-zero random) 00 M.
    const k = this.#k;
    if (src.length > k - PKCS1_OVERHEAD) fail('message too long');
    const em = new Uint8Array(k);
    em[1] = 2;
    const ps = em.subarray(2, k - src.length - 1);
    this.random(ps);
    for (let i = 0; i < ps.length; i++) while (ps[i] === 0) (this.random(ps.subarray(i, i + 1)));
    em.set(src, k - src.length);
    return this.#public(em);
  }

  async decrypt(src: Uint8Array): Promise<Uint8Array> {
    const em = this.#private(src);
    if (!this.pkcs1) return em;
    const sep = em.indexOf(0, 2);
    if (em[0] !== 0 || em[1] !== 2 || sep < 10) fail('decryption error');
    return em.slice(sep + 1);
  }

  async sign(src: Uint8Array): Promise<Uint8Array> {
    if (!this.pkcs1) fail('raw padding cannot sign');
    return this.#private(this.#emsa(src));
  }

  async verify(signature: Uint8Array, data: Uint8Array): Promise<boolean> {
    if (!this.pkcs1) fail('raw padding cannot verify');
    if (signature.length > this.#k || os2ip(signature) >= this.key.n) return false;
    let expected: Uint8Array;
    try {
      expected = this.#emsa(data);
    } catch {
      return false;
    }
    const em = i2osp(modPow(os2ip(signature), this.key.e, this.key.n), this.#k);
    let diff = 0;
    for (let i = 0; i < em.length; i++) diff |= em[i] ^ expected[i];
    return diff === 0;
  }
}

export class RsaAkcipherBackend implements AkcipherBackend {
  readonly akcipherAlgorithms = [VIRTIO_CRYPTO_AKCIPHER_RSA] as const;
  readonly #random: (b: Uint8Array) => void;

  /**
   * @param random fills a buffer with random bytes (PKCS#1 encryption padding); default WebCrypto's getRandomValues
   * @throws Error when no random source is given and the platform has no WebCrypto
   */
  constructor(random?: (b: Uint8Array) => void) {
    const c = (globalThis as { crypto?: { getRandomValues?(b: Uint8Array): Uint8Array } }).crypto;
    const rnd = random ?? (c?.getRandomValues ? (b: Uint8Array) => void c.getRandomValues!(b) : undefined);
    if (!rnd) throw new Error('crypto: no random source (crypto.getRandomValues) for RSA padding');
    this.#random = rnd;
  }

  async createAkcipherSession(algo: number, keyType: 'public' | 'private', key: Uint8Array, para: Uint8Array): Promise<AkcipherSession | null> {
    if (algo !== VIRTIO_CRYPTO_AKCIPHER_RSA || para.length < 8) return null;
    const dv = new DataView(para.buffer, para.byteOffset, para.byteLength);
    const padding = dv.getUint32(0, true);
    const digest = DIGEST_INFO[dv.getUint32(4, true)];
    if (padding !== VIRTIO_CRYPTO_RSA_RAW_PADDING && padding !== VIRTIO_CRYPTO_RSA_PKCS1_PADDING) return null;
    if (padding === VIRTIO_CRYPTO_RSA_PKCS1_PADDING && !digest) return null; // MD2, MD3, MD4, unknown
    const ints = derIntegerSequence(key);
    let k: RsaKey;
    if (keyType === 'public') {
      if (ints.length !== 2) fail('public key is not an RSAPublicKey');
      k = { n: ints[0], e: ints[1] };
    } else {
      // version (0, or 1 with otherPrimeInfos, which this backend does not take), n, e, d, p, q, dp, dq, qinv.
      if (ints.length !== 9 || ints[0] !== 0n) fail('private key is not a two-prime RSAPrivateKey');
      const [, n, e, d, p, q, dp, dq, qinv] = ints;
      if (p * q !== n || p === 0n || q === 0n) fail('private key primes do not match the modulus');
      k = { n, e, priv: { d, p, q, dp, dq, qinv } };
    }
    const bits = k.n.toString(2).length;
    if (bits < 512 || bits > 4096 || k.e < 3n || k.e >= 2n ** 32n) fail(`key of ${bits} bits with exponent ${k.e}`);
    return new RsaSession(k, padding === VIRTIO_CRYPTO_RSA_PKCS1_PADDING, digest ?? DIGEST_INFO[VIRTIO_CRYPTO_RSA_NO_HASH], this.#random);
  }
}
