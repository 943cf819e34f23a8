import { afterEach, describe, expect, it, vi } from 'vitest';
import { CryptoEntropySource, GET_RANDOM_VALUES_MAX, PatternEntropySource } from '../src/index.js';

afterEach(() => vi.restoreAllMocks());

describe('CryptoEntropySource', () => {
  it('fills large buffers in pieces of at most 65536 bytes, covering every byte', () => {
    const pieces: number[] = [];
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(a: T): T => {
      pieces.push((a as unknown as Uint8Array).length);
      (a as unknown as Uint8Array).fill(1);
      return a;
    });
    const dest = new Uint8Array(3 * GET_RANDOM_VALUES_MAX + 5);
    new CryptoEntropySource().fill(dest);
    expect(pieces).toEqual([GET_RANDOM_VALUES_MAX, GET_RANDOM_VALUES_MAX, GET_RANDOM_VALUES_MAX, 5]);
    expect(dest.every((b) => b === 1)).toBe(true);
  });

  it('produces bytes that are not all equal (the real CSPRNG is wired)', () => {
    const dest = new Uint8Array(4096);
    new CryptoEntropySource().fill(dest);
    expect(new Set(dest).size).toBeGreaterThan(100);
  });
});

describe('PatternEntropySource', () => {
  it('continues the pattern across fills', () => {
    const s = new PatternEntropySource(Uint8Array.of(1, 2, 3));
    const a = new Uint8Array(2);
    const b = new Uint8Array(4);
    s.fill(a);
    s.fill(b);
    expect([...a, ...b]).toEqual([1, 2, 3, 1, 2, 3]);
    expect(() => new PatternEntropySource(new Uint8Array(0))).toThrow(RangeError);
  });
});
