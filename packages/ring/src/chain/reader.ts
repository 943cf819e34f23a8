import type { GuestMemory } from '../memory/guest-memory.js';
import type { Segment } from '../queue/types.js';
import { SegmentCursor } from './cursor.js';

/**
 * Reads a chain's device-readable segments as one little-endian byte stream, across segment
 * boundaries (a 16-byte header split over two descriptors reads like one). Scalars inside one
 * segment cost one guest memory access.
 *
 * Errors: {@link ChainBoundsError} when reading past the segments' total length (nothing is
 * consumed then); {@link GuestMemoryError} if a segment is outside guest memory (popped chains
 * are validated, so this means the caller built the segments by hand).
 */
export class ChainReader {
  readonly #c: SegmentCursor;

  /** @param segments usually `chain.readable` of a popped {@link DescriptorChain}. */
  constructor(memory: GuestMemory, segments: readonly Segment[]) {
    this.#c = new SegmentCursor(memory, segments);
  }

  /** Bytes not yet read, in bytes. */
  get remaining(): number {
    return this.#c.remaining;
  }
  /** Bytes read or skipped so far. */
  get consumed(): number {
    return this.#c.position;
  }

  readU8(): number {
    const c = this.#c;
    c.check(1);
    const v = c.memory.readU8(c.addr);
    c.advance(1);
    return v;
  }
  readU16(): number {
    const c = this.#c;
    if (c.left >= 2) {
      const v = c.memory.readU16(c.addr);
      c.advance(2);
      return v;
    }
    return this.#straddle(2).getUint16(0, true);
  }
  readU32(): number {
    const c = this.#c;
    if (c.left >= 4) {
      const v = c.memory.readU32(c.addr);
      c.advance(4);
      return v;
    }
    return this.#straddle(4).getUint32(0, true);
  }
  readU64(): bigint {
    const c = this.#c;
    if (c.left >= 8) {
      const v = c.memory.readU64(c.addr);
      c.advance(8);
      return v;
    }
    return this.#straddle(8).getBigUint64(0, true);
  }
  /** A u64 as a number. @throws RangeError when it is 2^53 or more. */
  readU64Number(): number {
    this.#c.check(8);
    const lo = this.readU32();
    const hi = this.readU32();
    if (hi >= 2 ** 21) throw new RangeError('u64 value is 2^53 or more');
    return hi * 2 ** 32 + lo;
  }

  #straddle(n: 2 | 4 | 8): DataView {
    const c = this.#c;
    this.read(c.scratch(n));
    return c.scratchView;
  }

  /** Copies the next `dest.byteLength` bytes into `dest`. */
  read(dest: Uint8Array): void {
    this.#c.copyOut(dest);
  }
  /** The next `len` bytes, copied into a new array. */
  readBytes(len: number): Uint8Array {
    this.#c.check(len);
    const out = new Uint8Array(len);
    this.read(out);
    return out;
  }
  /** Zero-copy views of the next `len` bytes: one per contiguous piece (segment and region). */
  readView(len: number): Uint8Array[] {
    return this.#c.views(len);
  }
  /** Moves past `len` bytes. */
  skip(len: number): void {
    this.#c.skip(len);
  }
}
