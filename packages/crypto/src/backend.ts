/**
 * The engine behind the crypto device's CIPHER service. Runtime-neutral; sessions are created
 * and run asynchronously.
 */

/** A keyed cipher in one direction. */
export interface CipherSession {
  /**
   * Encrypts or decrypts `src` (the session's direction) with `iv` (the IV for CBC, the initial
   * counter block for CTR). @returns exactly `src.length` bytes
   * @throws (rejects) for any failure (the request completes with VIRTIO_CRYPTO_ERR)
   */
  run(iv: Uint8Array, src: Uint8Array): Promise<Uint8Array>;
}

export interface CipherBackend {
  /** The VIRTIO_CRYPTO_CIPHER_* algorithms offered (bits of cipher_algo_l/h). */
  readonly cipherAlgorithms: readonly number[];
  /** Largest key in bytes (max_cipher_key_len). */
  readonly maxCipherKeyLen: number;
  /**
   * Creates a session. Resolves null when the algorithm or key length is unsupported
   * (VIRTIO_CRYPTO_NOTSUPP); rejects for other failures (VIRTIO_CRYPTO_ERR).
   */
  createCipherSession(algo: number, key: Uint8Array, encrypt: boolean): Promise<CipherSession | null>;
}
