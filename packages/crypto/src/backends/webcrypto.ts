/**
 * CIPHER service through WebCrypto (`crypto.subtle`, in browsers and Node): AES-CBC and AES-CTR
 * with 128- or 256-bit keys (192-bit keys too where the platform supports them). CBC runs
 * without padding, as virtio requires: data must be a whole number of 16-byte blocks.
 * Other algorithms of the spec (ARC4, AES-ECB, DES, 3DES, KASUMI, SNOW3G, AES-F8, AES-XTS,
 * ZUC) have no WebCrypto mapping and are not offered.
 */
import type { CipherBackend, CipherSession } from '../backend.js';
import { VIRTIO_CRYPTO_CIPHER_AES_CBC, VIRTIO_CRYPTO_CIPHER_AES_CTR } from '../protocol.js';

/** The part of WebCrypto's SubtleCrypto this backend uses (structural, so no DOM types are needed). */
export interface SubtleCipher {
  importKey(format: 'raw', keyData: Uint8Array, algorithm: { name: string }, extractable: boolean, usages: ('encrypt' | 'decrypt')[]): Promise<unknown>;
  encrypt(algorithm: object, key: never, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: object, key: never, data: Uint8Array): Promise<ArrayBuffer>;
}

const BLOCK = 16;
const PAD_BLOCK = new Uint8Array(BLOCK).fill(BLOCK);

export class WebCryptoCipherBackend implements CipherBackend {
  readonly cipherAlgorithms = [VIRTIO_CRYPTO_CIPHER_AES_CBC, VIRTIO_CRYPTO_CIPHER_AES_CTR] as const;
  readonly maxCipherKeyLen = 32;
  readonly #subtle: SubtleCipher;

  /** @throws Error when the platform has no WebCrypto */
  constructor(subtle: SubtleCipher | undefined = (globalThis as { crypto?: { subtle?: SubtleCipher } }).crypto?.subtle) {
    if (!subtle) throw new Error('crypto: WebCrypto (crypto.subtle) is not available');
    this.#subtle = subtle;
  }

  async createCipherSession(algo: number, key: Uint8Array, encrypt: boolean): Promise<CipherSession | null> {
    const name = algo === VIRTIO_CRYPTO_CIPHER_AES_CBC ? 'AES-CBC' : algo === VIRTIO_CRYPTO_CIPHER_AES_CTR ? 'AES-CTR' : undefined;
    if (!name || (key.length !== 16 && key.length !== 24 && key.length !== 32)) return null;
    const subtle = this.#subtle;
    let k: never;
    try {
      k = (await subtle.importKey('raw', key.slice(), { name }, false, ['encrypt', 'decrypt'])) as never;
    } catch {
      return null; // e.g. AES-192 where the platform lacks it
    }
    if (name === 'AES-CTR') {
      return {
        async run(iv, src) {
          if (iv.length !== BLOCK) throw new RangeError('crypto: AES-CTR needs a 16-byte counter block');
          const params = { name, counter: iv.slice(), length: 128 };
          return new Uint8Array(encrypt ? await subtle.encrypt(params, k, src) : await subtle.decrypt(params, k, src));
        },
      };
    }
    return {
      async run(iv, src) {
        if (iv.length !== BLOCK || src.length % BLOCK !== 0) throw new RangeError('crypto: AES-CBC needs a 16-byte IV and whole blocks');
        if (src.length === 0) return new Uint8Array(0);
        if (encrypt) {
          // WebCrypto appends a PKCS#7 block; the ciphertext of the data is everything before it.
          const out = await subtle.encrypt({ name, iv: iv.slice() }, k, src);
          return new Uint8Array(out, 0, src.length);
        }
        // Append the block that decrypts to a full PKCS#7 padding block after the last
        // ciphertext block C: E = AES(C xor 0x10..), the first block of CBC(iv = C, 0x10..).
        const last = src.slice(src.length - BLOCK);
        const e = new Uint8Array(await subtle.encrypt({ name, iv: last }, k, PAD_BLOCK), 0, BLOCK);
        const padded = new Uint8Array(src.length + BLOCK);
        padded.set(src);
        padded.set(e, src.length);
        return new Uint8Array(await subtle.decrypt({ name, iv: iv.slice() }, k, padded));
      },
    };
  }
}
