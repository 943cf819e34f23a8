import type { GuestMemory } from '../memory/guest-memory.js';
import type { Segment } from '../queue/types.js';
import { SegmentCursor } from './cursor.js';

/**
 * Writes a chain's device-writable segments as one little-endian byte stream, across segment
 * boundaries. It only ever writes the segments it was given, so a device using it on
 * `chain.writable` never writes a device-readable buffer (spec 2.7.5). {@link written} is the
 * `written` count to push: bytes from the start up to the end of the furthest write.
 *
 * Errors: {@link ChainBoundsError} when writing past the segments' total length (nothing is
 * written then); {@link GuestMemoryError} for hand-built segments outside guest memory.
 */
export class ChainWriter {
  readonly #c: SegmentCursor;
  #written = 0;

  /** @param segments usually `chain.writable` of a popped {@link DescriptorChain}. */
  constructor(memory: GuestMemory, segments: readonly Segment[]) {
    this.#c = new SegmentCursor(memory, segments);
  }

  /** Bytes of room left after the current position. */
  get remaining(): number {
    return this.#c.remaining;
  }
  /** Bytes from the start of the writable segments to the end of the furthest write. */
  get written(): number {
    return this.#written;
  }

  #done(): void {
    if (this.#c.position > this.#written) this.#written = this.#c.position;
  }

  writeU8(value: number): void {
    const c = this.#c;
    c.check(1);
    c.memory.writeU8(c.addr, value);
    c.advance(1);
    this.#done();
  }
  writeU16(value: number): void {
    const c = this.#c;
    if (c.left >= 2) {
      c.memory.writeU16(c.addr, value);
      c.advance(2);
      this.#done();
      return;
    }
    c.scratchView.setUint16(0, value, true);
    this.write(c.scratch(2));
  }
  writeU32(value: number): void {
    const c = this.#c;
    if (c.left >= 4) {
      c.memory.writeU32(c.addr, value);
      c.advance(4);
      this.#done();
      return;
    }
    c.scratchView.setUint32(0, value, true);
    this.write(c.scratch(4));
  }
  writeU64(value: bigint | number): void {
    const c = this.#c;
    if (c.left >= 8) {
      c.memory.writeU64(c.addr, value);
      c.advance(8);
      this.#done();
      return;
    }
    c.scratchView.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
    this.write(c.scratch(8));
  }
  /** Copies `src` to the next `src.byteLength` bytes. */
  write(src: Uint8Array): void {
    this.#c.copyIn(src);
    this.#done();
  }
  /**
   * Zero-copy views of the next `len` bytes, one per contiguous piece, for the caller to fill;
   * they count as written.
   */
  writeView(len: number): Uint8Array[] {
    const v = this.#c.views(len);
    this.#done();
    return v;
  }
  /** Moves past `len` bytes without writing them (they count as written only if a later write follows). */
  skip(len: number): void {
    this.#c.skip(len);
  }
}
