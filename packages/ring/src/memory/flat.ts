import { GuestMemoryError } from '../errors.js';
import type { GuestMemory } from './guest-memory.js';
import { checkRegion, toU64, toUint8Array, type GuestBytes } from './bytes.js';

const TWO_32 = 2 ** 32;
/** readU64Number refuses high words at or above this: the value would be 2^53 or more. */
const MAX_HIGH_WORD = 2 ** 21;

/**
 * Guest memory that is one contiguous block of host memory at guest-physical address `base`.
 * The DataView and byte view are built once; each access costs one bounds check.
 */
export class FlatGuestMemory implements GuestMemory {
  /** Guest-physical address of the first byte. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  readonly #u8: Uint8Array;
  readonly #dv: DataView;

  /**
   * @param bytes the host memory; a Uint8Array is used as is (its window of its buffer).
   * @param base guest-physical address of its first byte (default 0).
   * @throws RangeError when base is not a non-negative safe integer or base + size exceeds 2^53.
   */
  constructor(bytes: GuestBytes, base = 0) {
    this.#u8 = toUint8Array(bytes);
    this.size = this.#u8.byteLength;
    checkRegion(base, this.size);
    this.base = base;
    this.#dv = new DataView(this.#u8.buffer, this.#u8.byteOffset, this.#u8.byteLength);
  }

  /** Offset of `[addr, addr + len)` in the backing bytes. @throws GuestMemoryError */
  #off(addr: number, len: number): number {
    const off = addr - this.base;
    if (off >= 0 && len >= 0 && off <= this.size - len && Number.isInteger(off) && Number.isInteger(len)) return off;
    throw new GuestMemoryError(addr, len);
  }

  readU8(addr: number): number {
    return this.#u8[this.#off(addr, 1)];
  }
  readU16(addr: number): number {
    return this.#dv.getUint16(this.#off(addr, 2), true);
  }
  readU32(addr: number): number {
    return this.#dv.getUint32(this.#off(addr, 4), true);
  }
  readU64(addr: number): bigint {
    return this.#dv.getBigUint64(this.#off(addr, 8), true);
  }
  readU64Number(addr: number): number {
    const off = this.#off(addr, 8);
    const hi = this.#dv.getUint32(off + 4, true);
    if (hi >= MAX_HIGH_WORD) throw new GuestMemoryError(addr, 8, `u64 at 0x${addr.toString(16)} is 2^53 or more`);
    return hi * TWO_32 + this.#dv.getUint32(off, true);
  }
  writeU8(addr: number, value: number): void {
    this.#u8[this.#off(addr, 1)] = value;
  }
  writeU16(addr: number, value: number): void {
    this.#dv.setUint16(this.#off(addr, 2), value, true);
  }
  writeU32(addr: number, value: number): void {
    this.#dv.setUint32(this.#off(addr, 4), value, true);
  }
  writeU64(addr: number, value: bigint | number): void {
    const off = this.#off(addr, 8);
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      const lo = value >>> 0;
      this.#dv.setUint32(off, lo, true);
      this.#dv.setUint32(off + 4, (value - lo) / TWO_32, true);
    } else {
      this.#dv.setBigUint64(off, toU64(value), true);
    }
  }
  read(addr: number, dest: Uint8Array): void {
    const off = this.#off(addr, dest.byteLength);
    dest.set(this.#u8.subarray(off, off + dest.byteLength));
  }
  write(addr: number, src: Uint8Array): void {
    this.#u8.set(src, this.#off(addr, src.byteLength));
  }
  view(addr: number, len: number): Uint8Array {
    const off = this.#off(addr, len);
    return this.#u8.subarray(off, off + len);
  }
  views(addr: number, len: number): Uint8Array[] {
    return len === 0 ? (this.#off(addr, 0), []) : [this.view(addr, len)];
  }
  contains(addr: number, len: number): boolean {
    const off = addr - this.base;
    return off >= 0 && len >= 0 && off <= this.size - len && Number.isInteger(off) && Number.isInteger(len);
  }
}
