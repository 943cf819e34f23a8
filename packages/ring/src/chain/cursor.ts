import { ChainBoundsError, GuestMemoryError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Segment } from '../queue/types.js';

/**
 * 8 bytes for scalar accesses that straddle two segments, shared by every cursor: each use
 * fills and drains it within one synchronous call, so one per module (per JS thread) is enough
 * and a reader or writer costs no buffer to create.
 */
const SCRATCH = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);
const SCRATCH_2 = SCRATCH.subarray(0, 2);
const SCRATCH_4 = SCRATCH.subarray(0, 4);

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
  /** A DataView over the shared 8-byte scratch for straddling scalars. */
  readonly scratchView = SCRATCH_VIEW;

  constructor(memory: GuestMemory, segments: readonly Segment[]) {
    this.memory = memory;
    this.#segs = segments;
    let n = 0;
    for (let k = 0; k < segments.length; k++) n += segments[k].len;
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

  /** The first `n` (2, 4 or 8) bytes of the shared scratch. */
  scratch(n: 2 | 4 | 8): Uint8Array {
    return n === 2 ? SCRATCH_2 : n === 4 ? SCRATCH_4 : SCRATCH;
  }

  /** Copies the next `dest.byteLength` bytes out of guest memory, moving past them. */
  copyOut(dest: Uint8Array): void {
    const len = dest.byteLength;
    this.check(len);
    let done = 0;
    while (done < len) {
      const count = Math.min(this.left, len - done);
      if (count === len) this.memory.read(this.addr, dest);
      else this.#copyPart(dest, done, count);
      done += count;
      this.advance(count);
    }
  }

  /** Copies `count` bytes at the current address into `dest` at `at`: one view, one set. */
  #copyPart(dest: Uint8Array, at: number, count: number): void {
    let source: Uint8Array;
    try {
      source = this.memory.view(this.addr, count);
    } catch (e) {
      if (!(e instanceof GuestMemoryError)) throw e;
      // A segment spanning two adjacent regions has no single view: copy it region by region.
      this.memory.read(this.addr, dest.subarray(at, at + count));
      return;
    }
    dest.set(source, at);
  }

  /** Copies `src` into the next `src.byteLength` bytes of guest memory, moving past them. */
  copyIn(src: Uint8Array): void {
    const len = src.byteLength;
    this.check(len);
    let done = 0;
    while (done < len) {
      const count = Math.min(this.left, len - done);
      this.memory.write(this.addr, count === len ? src : src.subarray(done, done + count));
      done += count;
      this.advance(count);
    }
  }

  /** Moves past the next `len` bytes. */
  skip(len: number): void {
    this.check(len);
    let done = 0;
    while (done < len) {
      const count = Math.min(this.left, len - done);
      done += count;
      this.advance(count);
    }
  }

  /** Zero-copy views of the next `len` bytes, moving past them. */
  views(len: number): Uint8Array[] {
    this.check(len);
    const out: Uint8Array[] = [];
    let done = 0;
    while (done < len) {
      const count = Math.min(this.left, len - done);
      for (const v of this.memory.views(this.addr, count)) out.push(v);
      done += count;
      this.advance(count);
    }
    return out;
  }
}
