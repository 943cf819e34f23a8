/**
 * The Toeplitz hash of receive-side scaling (spec 5.1.6.4.3, VIRTIO_NET_F_RSS): for every set
 * bit i (most significant bit of byte 0 first) of the input, the hash is XORed with the 32
 * key bits starting at bit i. The key is expanded once into a table of one 32-bit value per
 * (input byte position, byte value), so a packet's hash is one lookup and XOR per input byte,
 * with no allocation.
 */

/** Longest hash input in bytes: IPv6 source and destination addresses plus two ports. */
export const TOEPLITZ_MAX_INPUT = 36;
/** Key bytes an input of {@link TOEPLITZ_MAX_INPUT} bytes uses (40: the spec's minimum rss_max_key_size). */
export const TOEPLITZ_KEY_SIZE = TOEPLITZ_MAX_INPUT + 4;

export class Toeplitz {
  /** table[pos * 256 + byte]: the hash contribution of `byte` at input position `pos`. */
  readonly #table = new Uint32Array(TOEPLITZ_MAX_INPUT * 256);
  readonly #key = new Uint8Array(TOEPLITZ_KEY_SIZE + 1);
  readonly #windows = new Uint32Array(8);

  /**
   * Sets the key: at most {@link TOEPLITZ_KEY_SIZE} bytes are used, a shorter key is padded with
   * zero bits.
   */
  setKey(key: Uint8Array): void {
    const k = this.#key;
    k.fill(0);
    k.set(key.subarray(0, TOEPLITZ_KEY_SIZE));
    const w = this.#windows;
    const t = this.#table;
    for (let pos = 0; pos < TOEPLITZ_MAX_INPUT; pos++) {
      const hi = ((k[pos] << 24) | (k[pos + 1] << 16) | (k[pos + 2] << 8) | k[pos + 3]) >>> 0;
      const next = k[pos + 4];
      // w[b]: the 32 key bits starting at input bit pos * 8 + b.
      for (let b = 0; b < 8; b++) w[b] = b === 0 ? hi : ((hi << b) | (next >>> (8 - b))) >>> 0;
      const base = pos * 256;
      t[base] = 0;
      for (let v = 1; v < 256; v++) {
        // Highest set bit of v is bit (7 - b); the rest was computed already.
        const b = Math.clz32(v) - 24;
        t[base + v] = (t[base + (v & ~(0x80 >>> b))] ^ w[b]) >>> 0;
      }
    }
  }

  /**
   * Continues `hash` over `len` bytes of `data` from `offset`, which are the hash input's bytes
   * from position `pos` on. `pos + len` must not exceed {@link TOEPLITZ_MAX_INPUT}.
   */
  update(hash: number, data: Uint8Array, offset: number, len: number, pos: number): number {
    const t = this.#table;
    for (let i = 0; i < len; i++) hash ^= t[((pos + i) << 8) | data[offset + i]];
    return hash >>> 0;
  }

  /** The hash of `input` (at most {@link TOEPLITZ_MAX_INPUT} bytes). */
  hash(input: Uint8Array): number {
    return this.update(0, input, 0, Math.min(input.length, TOEPLITZ_MAX_INPUT), 0);
  }
}
