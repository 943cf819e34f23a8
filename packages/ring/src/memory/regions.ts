import { GuestMemoryError } from '../errors.js';
import type { GuestMemory } from './guest-memory.js';
import { checkRegion, toU64, toUint8Array, type GuestBytes } from './bytes.js';

const TWO_32 = 2 ** 32;
const MAX_HIGH_WORD = 2 ** 21;

/** One block of guest RAM: host bytes placed at a guest-physical address. */
export interface GuestRegion {
  /** Guest-physical address of the region's first byte. */
  readonly base: number;
  readonly bytes: GuestBytes;
}

interface Region {
  readonly base: number;
  readonly end: number;
  readonly u8: Uint8Array;
  readonly dv: DataView;
}

/**
 * Guest memory made of several regions with gaps between them (for example RAM below and
 * above the PCI hole). Views are built once per region. A scalar access or copy that spans two
 * adjacent regions works; one that touches a gap throws {@link GuestMemoryError}.
 */
export class RegionGuestMemory implements GuestMemory {
  readonly #regions: Region[];
  /** Scratch bytes for scalar accesses that span two regions. */
  readonly #scratch = new Uint8Array(8);
  readonly #scratchDv = new DataView(this.#scratch.buffer);

  /**
   * @param regions the regions in any order; they must not overlap.
   * @throws RangeError when regions overlap, or a base is not a valid guest-physical address.
   */
  constructor(regions: readonly GuestRegion[]) {
    this.#regions = regions
      .map((r) => {
        const u8 = toUint8Array(r.bytes);
        checkRegion(r.base, u8.byteLength);
        return { base: r.base, end: r.base + u8.byteLength, u8, dv: new DataView(u8.buffer, u8.byteOffset, u8.byteLength) };
      })
      .filter((r) => r.end > r.base)
      .sort((a, b) => a.base - b.base);
    for (let i = 1; i < this.#regions.length; i++) {
      if (this.#regions[i].base < this.#regions[i - 1].end) {
        throw new RangeError(`guest memory regions overlap at 0x${this.#regions[i].base.toString(16)}`);
      }
    }
  }

  /** The regions as (base, size) pairs, in address order. */
  get layout(): { base: number; size: number }[] {
    return this.#regions.map((r) => ({ base: r.base, size: r.end - r.base }));
  }

  /** The region holding byte `addr`, or undefined. */
  #find(addr: number): Region | undefined {
    const rs = this.#regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = rs[mid];
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** The region holding all of `[addr, addr + len)` (len >= 1), or undefined when it spans or misses. */
  #within(addr: number, len: number): Region | undefined {
    if (!Number.isInteger(addr)) return undefined;
    const r = this.#find(addr);
    return r !== undefined && addr + len <= r.end ? r : undefined;
  }

  /** Calls `fn(region, offset, count)` for each piece of `[addr, addr + len)`. @throws GuestMemoryError */
  #each(addr: number, len: number, fn: (r: Region, off: number, count: number, done: number) => void): void {
    if (!this.contains(addr, len)) throw new GuestMemoryError(addr, len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const r = this.#find(a) as Region;
      const count = Math.min(len - done, r.end - a);
      fn(r, a - r.base, count, done);
      done += count;
    }
  }

  /** Loads `n` bytes spanning regions into the scratch buffer. @throws GuestMemoryError */
  #gather(addr: number, n: number): DataView {
    this.read(addr, this.#scratch.subarray(0, n));
    return this.#scratchDv;
  }

  readU8(addr: number): number {
    const r = this.#within(addr, 1);
    if (r === undefined) throw new GuestMemoryError(addr, 1);
    return r.u8[addr - r.base];
  }
  readU16(addr: number): number {
    const r = this.#within(addr, 2);
    return r !== undefined ? r.dv.getUint16(addr - r.base, true) : this.#gather(addr, 2).getUint16(0, true);
  }
  readU32(addr: number): number {
    const r = this.#within(addr, 4);
    return r !== undefined ? r.dv.getUint32(addr - r.base, true) : this.#gather(addr, 4).getUint32(0, true);
  }
  readU64(addr: number): bigint {
    const r = this.#within(addr, 8);
    return r !== undefined ? r.dv.getBigUint64(addr - r.base, true) : this.#gather(addr, 8).getBigUint64(0, true);
  }
  readU64Number(addr: number): number {
    const r = this.#within(addr, 8);
    const dv = r !== undefined ? r.dv : this.#gather(addr, 8);
    const off = r !== undefined ? addr - r.base : 0;
    const hi = dv.getUint32(off + 4, true);
    if (hi >= MAX_HIGH_WORD) throw new GuestMemoryError(addr, 8, `u64 at 0x${addr.toString(16)} is 2^53 or more`);
    return hi * TWO_32 + dv.getUint32(off, true);
  }
  writeU8(addr: number, value: number): void {
    const r = this.#within(addr, 1);
    if (r === undefined) throw new GuestMemoryError(addr, 1);
    r.u8[addr - r.base] = value;
  }
  writeU16(addr: number, value: number): void {
    const r = this.#within(addr, 2);
    if (r !== undefined) r.dv.setUint16(addr - r.base, value, true);
    else this.#scatter(addr, 2, (dv) => dv.setUint16(0, value, true));
  }
  writeU32(addr: number, value: number): void {
    const r = this.#within(addr, 4);
    if (r !== undefined) r.dv.setUint32(addr - r.base, value, true);
    else this.#scatter(addr, 4, (dv) => dv.setUint32(0, value, true));
  }
  writeU64(addr: number, value: bigint | number): void {
    const v = toU64(value);
    const r = this.#within(addr, 8);
    if (r !== undefined) r.dv.setBigUint64(addr - r.base, v, true);
    else this.#scatter(addr, 8, (dv) => dv.setBigUint64(0, v, true));
  }
  /** Encodes into scratch then copies out across regions (checked before encoding). */
  #scatter(addr: number, n: number, encode: (dv: DataView) => void): void {
    if (!this.contains(addr, n)) throw new GuestMemoryError(addr, n);
    encode(this.#scratchDv);
    this.write(addr, this.#scratch.subarray(0, n));
  }
  read(addr: number, dest: Uint8Array): void {
    const r = this.#within(addr, dest.byteLength);
    if (r !== undefined) {
      const off = addr - r.base;
      dest.set(r.u8.subarray(off, off + dest.byteLength));
      return;
    }
    this.#each(addr, dest.byteLength, (reg, off, count, done) => dest.set(reg.u8.subarray(off, off + count), done));
  }
  write(addr: number, src: Uint8Array): void {
    const r = this.#within(addr, src.byteLength);
    if (r !== undefined) {
      r.u8.set(src, addr - r.base);
      return;
    }
    this.#each(addr, src.byteLength, (reg, off, count, done) => reg.u8.set(src.subarray(done, done + count), off));
  }
  view(addr: number, len: number): Uint8Array {
    const r = len > 0 ? this.#within(addr, len) : undefined;
    if (r === undefined || !Number.isInteger(len)) {
      if (len === 0 && this.contains(addr, 0)) return new Uint8Array(0);
      throw new GuestMemoryError(addr, len, `guest memory range [0x${addr.toString(16)}, +${len}) is outside memory or crosses a region boundary`);
    }
    const off = addr - r.base;
    return r.u8.subarray(off, off + len);
  }
  views(addr: number, len: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.#each(addr, len, (r, off, count) => out.push(r.u8.subarray(off, off + count)));
    return out;
  }
  contains(addr: number, len: number): boolean {
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0) return false;
    if (len === 0) {
      // An empty range is inside memory when its address is in a region or at a region's end.
      return this.#find(addr) !== undefined || this.#regions.some((r) => r.end === addr);
    }
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const r = this.#find(a);
      if (r === undefined) return false;
      a = r.end;
    }
    return true;
  }
}
