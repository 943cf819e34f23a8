/**
 * AEAD service through WebCrypto (`crypto.subtle`): AES-GCM with 96-bit IVs, 128/192/256-bit
 * keys (192 where the platform has AES-192) and tags of 4, 8 or 12..16 bytes. A 16-byte IV
 * (the spec's pre-computed J0), CCM and ChaCha20-Poly1305 have no WebCrypto mapping and are
 * not offered.
 */
import type { AeadBackend, AeadSession } from '../backend.js';
import { VIRTIO_CRYPTO_AEAD_GCM } from '../protocol.js';

/** The part of WebCrypto's SubtleCrypto this backend uses (structural, so no DOM types are needed). */
export interface SubtleAead {
  importKey(format: 'raw', keyData: Uint8Array, algorithm: { name: 'AES-GCM' }, extractable: boolean, usages: ('encrypt' | 'decrypt')[]): Promise<unknown>;
  encrypt(algorithm: object, key: never, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: object, key: never, data: Uint8Array): Promise<ArrayBuffer>;
}

const GCM_IV = 12;
const TAG_LENGTHS: ReadonlySet<number> = new Set([4, 8, 12, 13, 14, 15, 16]);

export class WebCryptoAeadBackend implements AeadBackend {
  readonly aeadAlgorithms = [VIRTIO_CRYPTO_AEAD_GCM] as const;
  readonly maxKeyLen = 32;
  readonly #subtle: SubtleAead;

  /** @throws Error when the platform has no WebCrypto */
  constructor(subtle: SubtleAead | undefined = (globalThis as { crypto?: { subtle?: SubtleAead } }).crypto?.subtle) {
    if (!subtle) throw new Error('crypto: WebCrypto (crypto.subtle) is not available');
    this.#subtle = subtle;
  }

  async createAeadSession(algo: number, key: Uint8Array, tagLen: number): Promise<AeadSession | null> {
    if (algo !== VIRTIO_CRYPTO_AEAD_GCM || !TAG_LENGTHS.has(tagLen) || (key.length !== 16 && key.length !== 24 && key.length !== 32)) return null;
    const subtle = this.#subtle;
    let k: never;
    try {
      k = (await subtle.importKey('raw', key.slice(), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])) as never;
    } catch {
      return null; // e.g. AES-192 where the platform lacks it
    }
    const params = (iv: Uint8Array, aad: Uint8Array) => {
      if (iv.length !== GCM_IV) throw new RangeError('crypto: AES-GCM needs a 12-byte IV');
      return { name: 'AES-GCM', iv: iv.slice(), additionalData: aad, tagLength: tagLen * 8 };
    };
    return {
      async encrypt(iv, aad, plain) {
        return new Uint8Array(await subtle.encrypt(params(iv, aad), k, plain));
      },
      async decrypt(iv, aad, sealed) {
        const p = params(iv, aad);
        if (sealed.length < tagLen) return null;
        try {
          return new Uint8Array(await subtle.decrypt(p, k, sealed));
        } catch {
          return null; // WebCrypto reports only "OperationError" for a tag that does not verify
        }
      },
    };
  }
}
