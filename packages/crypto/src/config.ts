/** struct virtio_crypto_config (spec 5.9.4), little-endian, read-only for the driver. */

export const CryptoConfigOffset = {
  status: 0,
  max_dataqueues: 4,
  crypto_services: 8,
  cipher_algo_l: 12,
  cipher_algo_h: 16,
  hash_algo: 20,
  mac_algo_l: 24,
  mac_algo_h: 28,
  aead_algo: 32,
  max_cipher_key_len: 36,
  max_auth_key_len: 40,
  akcipher_algo: 44,
  max_size: 48,
} as const;

export const VIRTIO_CRYPTO_CONFIG_SIZE = 56;

export interface CryptoConfigFields {
  readonly status: number;
  readonly maxDataqueues: number;
  readonly cryptoServices: number;
  /** Bit mask of CIPHER algorithms (bits 0..63 as a bigint). */
  readonly cipherAlgos: bigint;
  readonly maxCipherKeyLen: number;
  /** Bit mask of HASH algorithms (default 0). */
  readonly hashAlgos?: number;
  /** Bit mask of MAC algorithms (bits 0..63 as a bigint, default 0). */
  readonly macAlgos?: bigint;
  /** Bit mask of AEAD algorithms (default 0). */
  readonly aeadAlgos?: number;
  /** Bit mask of AKCIPHER algorithms (default 0). */
  readonly akcipherAlgos?: number;
  /** max_auth_key_len in bytes (default 0). */
  readonly maxAuthKeyLen?: number;
  /** max_size in bytes. */
  readonly maxSize: number;
}

/** The configuration space bytes; the driver's writes are ignored (every field is read-only). */
export class CryptoConfigSpace {
  readonly #bytes = new Uint8Array(VIRTIO_CRYPTO_CONFIG_SIZE);
  readonly #dv = new DataView(this.#bytes.buffer);

  constructor(f: CryptoConfigFields) {
    const dv = this.#dv;
    dv.setUint32(CryptoConfigOffset.status, f.status, true);
    dv.setUint32(CryptoConfigOffset.max_dataqueues, f.maxDataqueues, true);
    dv.setUint32(CryptoConfigOffset.crypto_services, f.cryptoServices, true);
    dv.setUint32(CryptoConfigOffset.cipher_algo_l, Number(f.cipherAlgos & 0xffffffffn), true);
    dv.setUint32(CryptoConfigOffset.cipher_algo_h, Number((f.cipherAlgos >> 32n) & 0xffffffffn), true);
    dv.setUint32(CryptoConfigOffset.hash_algo, f.hashAlgos ?? 0, true);
    const mac = f.macAlgos ?? 0n;
    dv.setUint32(CryptoConfigOffset.mac_algo_l, Number(mac & 0xffffffffn), true);
    dv.setUint32(CryptoConfigOffset.mac_algo_h, Number((mac >> 32n) & 0xffffffffn), true);
    dv.setUint32(CryptoConfigOffset.aead_algo, f.aeadAlgos ?? 0, true);
    dv.setUint32(CryptoConfigOffset.max_cipher_key_len, f.maxCipherKeyLen, true);
    dv.setUint32(CryptoConfigOffset.max_auth_key_len, f.maxAuthKeyLen ?? 0, true);
    dv.setUint32(CryptoConfigOffset.akcipher_algo, f.akcipherAlgos ?? 0, true);
    dv.setBigUint64(CryptoConfigOffset.max_size, BigInt(f.maxSize), true);
  }

  read(offset: number, width: 1 | 2 | 4): number {
    if (offset < 0 || offset + width > VIRTIO_CRYPTO_CONFIG_SIZE) return 0;
    if (width === 1) return this.#bytes[offset];
    if (width === 2) return this.#dv.getUint16(offset, true);
    return this.#dv.getUint32(offset, true);
  }
}
