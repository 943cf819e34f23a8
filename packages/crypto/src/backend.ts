/**
 * The engines behind the crypto device's services (CIPHER, HASH, MAC, AEAD). Runtime-neutral;
 * sessions are created and run asynchronously.
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

/** The engine behind the HASH service (spec 5.9.7.3). */
export interface HashBackend {
  /** The VIRTIO_CRYPTO_HASH_* algorithms offered (bits of hash_algo). */
  readonly hashAlgorithms: readonly number[];
  /** Digest length of `algo` in bytes; 0 for an algorithm not offered. */
  digestLength(algo: number): number;
  /** The full digest of `data`. @throws (rejects) for any failure (VIRTIO_CRYPTO_ERR) */
  digest(algo: number, data: Uint8Array): Promise<Uint8Array>;
}

/** A keyed MAC. */
export interface MacSession {
  /** The full MAC of `data`. @throws (rejects) for any failure (VIRTIO_CRYPTO_ERR) */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** The engine behind the MAC service (spec 5.9.7.4). */
export interface MacBackend {
  /** The VIRTIO_CRYPTO_MAC_* algorithms offered (bits of mac_algo_l/h). */
  readonly macAlgorithms: readonly number[];
  /** Largest authentication key in bytes (max_auth_key_len). */
  readonly maxAuthKeyLen: number;
  /** MAC length of `algo` in bytes; 0 for an algorithm not offered. */
  macLength(algo: number): number;
  /**
   * Creates a session keyed with `key` (0..maxAuthKeyLen bytes). Resolves null when the algorithm
   * or key is unsupported (VIRTIO_CRYPTO_NOTSUPP); rejects for other failures (VIRTIO_CRYPTO_ERR).
   */
  createMacSession(algo: number, key: Uint8Array): Promise<MacSession | null>;
}

/** A keyed AEAD cipher with a fixed tag length. */
export interface AeadSession {
  /** @returns the ciphertext followed by the tag (`plain.length + tagLen` bytes); rejects for any failure */
  encrypt(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array>;
  /**
   * `sealed` is the ciphertext followed by the tag. @returns the plaintext, or null when the tag
   * does not verify (VIRTIO_CRYPTO_BADMSG); rejects for other failures
   */
  decrypt(iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array | null>;
}

/** The engine behind the AEAD service (spec 5.9.7.6). */
export interface AeadBackend {
  /** The VIRTIO_CRYPTO_AEAD_* algorithms offered (bits of aead_algo). */
  readonly aeadAlgorithms: readonly number[];
  /** Largest key in bytes (counts towards max_cipher_key_len). */
  readonly maxKeyLen: number;
  /**
   * Creates a session. Resolves null when the algorithm, key length or tag length is unsupported
   * (VIRTIO_CRYPTO_NOTSUPP); rejects for other failures (VIRTIO_CRYPTO_ERR).
   */
  createAeadSession(algo: number, key: Uint8Array, tagLen: number): Promise<AeadSession | null>;
}

/**
 * A keyed asymmetric cipher. Every method rejects for inputs the key or padding cannot take
 * (VIRTIO_CRYPTO_ERR): data too long, a value not below the modulus, an operation the key type
 * or padding does not allow, a malformed padding on decryption.
 */
export interface AkcipherSession {
  /** The public-key operation on `src`. */
  encrypt(src: Uint8Array): Promise<Uint8Array>;
  /** The private-key operation on `src` (private keys only). */
  decrypt(src: Uint8Array): Promise<Uint8Array>;
  /** Signs `src`, usually a digest (private keys only). */
  sign(src: Uint8Array): Promise<Uint8Array>;
  /** @returns whether `signature` is a signature of `data` (false: VIRTIO_CRYPTO_KEY_REJECTED) */
  verify(signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

/** The engine behind the AKCIPHER service (spec 5.9.7.7). */
export interface AkcipherBackend {
  /** The VIRTIO_CRYPTO_AKCIPHER_* algorithms offered (bits of akcipher_algo). */
  readonly akcipherAlgorithms: readonly number[];
  /**
   * Creates a session from a DER key (RSA: PKCS#1 RSAPublicKey or RSAPrivateKey) and the 44
   * bytes of algo_flf (RSA: virtio_crypto_rsa_session_para). Resolves null when the algorithm or
   * its parameters are unsupported (VIRTIO_CRYPTO_NOTSUPP); rejects for a malformed key (VIRTIO_CRYPTO_ERR).
   */
  createAkcipherSession(algo: number, keyType: 'public' | 'private', key: Uint8Array, para: Uint8Array): Promise<AkcipherSession | null>;
}
