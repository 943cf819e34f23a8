/**
 * HASH and MAC services through WebCrypto (`crypto.subtle`): SHA-1, SHA-256, SHA-384 and
 * SHA-512 and their HMACs; SHA-224 and HMAC-SHA-224, which WebCrypto lacks, in plain
 * TypeScript. MD5, SHA-3 and the cipher-based MACs (CMAC, GMAC, CBC-MAC, XCBC, KASUMI, SNOW3G,
 * ZUC) are not offered.
 */
import type { HashBackend, MacBackend, MacSession } from '../backend.js';
import {
  VIRTIO_CRYPTO_HASH_SHA1,
  VIRTIO_CRYPTO_HASH_SHA_224,
  VIRTIO_CRYPTO_HASH_SHA_256,
  VIRTIO_CRYPTO_HASH_SHA_384,
  VIRTIO_CRYPTO_HASH_SHA_512,
  VIRTIO_CRYPTO_MAC_HMAC_SHA1,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_224,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_256,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_384,
  VIRTIO_CRYPTO_MAC_HMAC_SHA_512,
} from '../protocol.js';
import { hmacSha224, sha224, SHA224_LENGTH } from './sha224.js';

/** The part of WebCrypto's SubtleCrypto these backends use (structural, so no DOM types are needed). */
export interface SubtleDigest {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
  importKey(format: 'raw', keyData: Uint8Array, algorithm: { name: 'HMAC'; hash: string }, extractable: boolean, usages: 'sign'[]): Promise<unknown>;
  sign(algorithm: 'HMAC', key: never, data: Uint8Array): Promise<ArrayBuffer>;
}

/** WebCrypto name and digest length of each SHA family member; HASH and HMAC algorithm numbers coincide for them. */
const SHA: Readonly<Record<number, { name: string; len: number }>> = {
  [VIRTIO_CRYPTO_HASH_SHA1]: { name: 'SHA-1', len: 20 },
  [VIRTIO_CRYPTO_HASH_SHA_224]: { name: 'SHA-224', len: SHA224_LENGTH },
  [VIRTIO_CRYPTO_HASH_SHA_256]: { name: 'SHA-256', len: 32 },
  [VIRTIO_CRYPTO_HASH_SHA_384]: { name: 'SHA-384', len: 48 },
  [VIRTIO_CRYPTO_HASH_SHA_512]: { name: 'SHA-512', len: 64 },
};

function platformSubtle(subtle: SubtleDigest | undefined): SubtleDigest {
  const s = subtle ?? (globalThis as { crypto?: { subtle?: SubtleDigest } }).crypto?.subtle;
  if (!s) throw new Error('crypto: WebCrypto (crypto.subtle) is not available');
  return s;
}

export class WebCryptoHashBackend implements HashBackend {
  readonly hashAlgorithms = [VIRTIO_CRYPTO_HASH_SHA1, VIRTIO_CRYPTO_HASH_SHA_224, VIRTIO_CRYPTO_HASH_SHA_256, VIRTIO_CRYPTO_HASH_SHA_384, VIRTIO_CRYPTO_HASH_SHA_512] as const;
  readonly #subtle: SubtleDigest;

  /** @throws Error when the platform has no WebCrypto */
  constructor(subtle?: SubtleDigest) {
    this.#subtle = platformSubtle(subtle);
  }

  digestLength(algo: number): number {
    return SHA[algo]?.len ?? 0;
  }

  async digest(algo: number, data: Uint8Array): Promise<Uint8Array> {
    const sha = SHA[algo];
    if (!sha) throw new RangeError(`crypto: hash algorithm ${algo} not offered`);
    if (algo === VIRTIO_CRYPTO_HASH_SHA_224) return sha224(data);
    return new Uint8Array(await this.#subtle.digest(sha.name, data));
  }
}

export class WebCryptoMacBackend implements MacBackend {
  readonly macAlgorithms = [VIRTIO_CRYPTO_MAC_HMAC_SHA1, VIRTIO_CRYPTO_MAC_HMAC_SHA_224, VIRTIO_CRYPTO_MAC_HMAC_SHA_256, VIRTIO_CRYPTO_MAC_HMAC_SHA_384, VIRTIO_CRYPTO_MAC_HMAC_SHA_512] as const;
  /** Keys longer than the hash's block are hashed first (RFC 2104), so any length works; this bounds the request. */
  readonly maxAuthKeyLen = 128;
  readonly #subtle: SubtleDigest;

  /** @throws Error when the platform has no WebCrypto */
  constructor(subtle?: SubtleDigest) {
    this.#subtle = platformSubtle(subtle);
  }

  macLength(algo: number): number {
    return SHA[algo]?.len ?? 0;
  }

  async createMacSession(algo: number, key: Uint8Array): Promise<MacSession | null> {
    const sha = SHA[algo];
    if (!sha || key.length > this.maxAuthKeyLen) return null;
    const k = key.slice();
    if (algo === VIRTIO_CRYPTO_MAC_HMAC_SHA_224) return { sign: async (data) => hmacSha224(k, data) };
    // HMAC pads short keys with zeroes, so the empty key (which WebCrypto refuses) is the key 0x00.
    const subtle = this.#subtle;
    const imported = (await subtle.importKey('raw', k.length > 0 ? k : new Uint8Array(1), { name: 'HMAC', hash: sha.name }, false, ['sign'])) as never;
    return { sign: async (data) => new Uint8Array(await subtle.sign('HMAC', imported, data)) };
  }
}
