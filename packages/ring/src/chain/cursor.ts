import { ChainBoundsError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Segment } from '../queue/types.js';

/**
 * A position in a list of segments: the segment index, the guest address of the next byte
 * and how much of that segment is left. Shared by ChainReader and ChainWriter; no allocation
 * per access.
 */
export class SegmentCursor {
  readonly memory: GuestMemory;
  readonly #segs: readonly Segment[];
  /** Total bytes of all segments. */
  readonly length: number;
  #i = -1;
  /** Guest address of the next byte. */
  addr = 0;
  /** Bytes left in the current segment. */
  left = 0;
  /** Bytes before the next byte (consumed so far). */
  position = 0;
  /** 8 bytes for scalar accesses that straddle two segments. */
  readonly scratch = new Uint8Array(8);
  readonly scratchView = new DataView(this.scratch.buffer);

  constructor(memory: GuestMemory, segments: readonly Segment[]) {
    this.memory = memory;
    this.#segs = segments;
    let n = 0;
    for (const s of segments) n += s.len;
    this.length = n;
    this.#nextSegment();
  }

  get remaining(): number {
    return this.length - this.position;
  }

  /** @throws ChainBoundsError when fewer than `len` bytes are left (or len is not a count). */
  check(len: number): void {
    if (!Number.isInteger(len) || len < 0 || len > this.length - this.position) {
      throw new ChainBoundsError(len, this.length - this.position);
    }
  }

  /** Moves forward `n` bytes within the current segment (n <= left). */
  advance(n: number): void {
    this.addr += n;
    this.left -= n;
    this.position += n;
    if (this.left === 0) this.#nextSegment();
  }

  #nextSegment(): void {
    while (++this.#i < this.#segs.length) {
      const s = this.#segs[this.#i];
      if (s.len > 0) {
        this.addr = s.addr;
        this.left = s.len;
        return;
      }
    }
    this.left = 0;
  }

  /** Calls `fn(addr, count, done)` for each contiguous piece of the next `len` bytes, moving past them. */
  pieces(len: number, fn: (addr: number, count: number, done: number) => void): void {
    this.check(len);
    let done = 0;
    while (done < len) {
      const count = Math.min(this.left, len - done);
      fn(this.addr, count, done);
      done += count;
      this.advance(count);
    }
  }

  /** Zero-copy views of the next `len` bytes, moving past them. */
  views(len: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.pieces(len, (addr, count) => {
      for (const v of this.memory.views(addr, count)) out.push(v);
    });
    return out;
  }
}
