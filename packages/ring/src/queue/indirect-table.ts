import { GuestMemoryError } from '../errors.js';
import { le32 } from '../memory/endian.js';
import type { GuestMemory } from '../memory/guest-memory.js';

const TWO_32 = 2 ** 32;

/**
 * A driver-side indirect table's host memory as u32 words, resolved once when the table is
 * allocated; null when it has no single 4-byte-aligned host view (it spans two regions, or the
 * host buffer is oddly placed), in which case the driver writes it through {@link GuestMemory}.
 */
export function tableWords(memory: GuestMemory, addr: number, bytes: number): Uint32Array | null {
  let v: Uint8Array;
  try {
    v = memory.view(addr, bytes);
  } catch (e) {
    if (e instanceof GuestMemoryError) return null;
    throw e;
  }
  return v.byteOffset % 4 === 0 ? new Uint32Array(v.buffer, v.byteOffset, bytes >>> 2) : null;
}

/**
 * Writes 16-byte table entry `k`: addr (a safe integer, as two u32 words), len, then the last
 * word, little-endian: split `flags | next << 16`, packed `id | flags << 16`.
 */
export function writeTableEntry(words: Uint32Array, k: number, addr: number, len: number, last: number): void {
  const lo = addr >>> 0;
  words[4 * k] = le32(lo);
  words[4 * k + 1] = le32((addr - lo) / TWO_32);
  words[4 * k + 2] = le32(len);
  words[4 * k + 3] = le32(last >>> 0);
}
