import type { EntropySource } from './source.js';

/**
 * An {@link EntropySource} that calls `fill` for every piece: wire in a hardware RNG, a
 * deterministic generator for tests, or bytes pushed from elsewhere.
 */
export class CallbackEntropySource implements EntropySource {
  constructor(readonly fill: (dest: Uint8Array) => void) {}
}

/**
 * A deterministic {@link EntropySource} for tests: repeats `pattern` endlessly, continuing
 * where the previous fill stopped. NOT random; never use it for a real guest.
 * @throws RangeError when `pattern` is empty
 */
export class PatternEntropySource implements EntropySource {
  readonly #pattern: Uint8Array;
  #pos = 0;

  constructor(pattern: Uint8Array) {
    if (pattern.length === 0) throw new RangeError('entropy: empty pattern');
    this.#pattern = pattern.slice();
  }

  fill(dest: Uint8Array): void {
    const p = this.#pattern;
    for (let i = 0; i < dest.length; i++) {
      dest[i] = p[this.#pos];
      this.#pos = this.#pos + 1 === p.length ? 0 : this.#pos + 1;
    }
  }
}
