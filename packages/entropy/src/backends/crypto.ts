import { GET_RANDOM_VALUES_MAX } from '../protocol.js';
import type { EntropySource } from './source.js';

/**
 * An {@link EntropySource} over the platform's CSPRNG, `globalThis.crypto.getRandomValues`
 * (browsers, Node 20+, Deno, Bun), called in pieces of at most 65536 bytes.
 * @throws Error from the constructor when the platform has no `crypto.getRandomValues`
 */
export class CryptoEntropySource implements EntropySource {
  readonly #crypto: { getRandomValues(a: Uint8Array): Uint8Array };

  constructor() {
    const c = (globalThis as { crypto?: { getRandomValues?: unknown } }).crypto;
    if (typeof c?.getRandomValues !== 'function') throw new Error('entropy: globalThis.crypto.getRandomValues is not available');
    this.#crypto = c as { getRandomValues(a: Uint8Array): Uint8Array };
  }

  fill(dest: Uint8Array): void {
    for (let off = 0; off < dest.length; off += GET_RANDOM_VALUES_MAX) {
      this.#crypto.getRandomValues(dest.subarray(off, Math.min(dest.length, off + GET_RANDOM_VALUES_MAX)));
    }
  }
}
