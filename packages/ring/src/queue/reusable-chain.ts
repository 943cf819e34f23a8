import type { DescriptorChain, Segment } from '../queue/types.js';

/** A segment a queue rewrites in place when its chain is refilled. */
class ChainSegment implements Segment {
  constructor(
    public addr: number,
    public len: number,
  ) {}
}

/**
 * A chain a device queue refills in place (its segment arrays and segment objects included)
 * instead of allocating one per pop. A queue refills a chain only when it is not in flight
 * (never popped, or pushed), and starts a fresh set at a queue reset, so a device holding a
 * chain until its push always sees what it popped (the contract of {@link DescriptorChain}).
 * `generation` ties it to the queue state it was popped in, so a push after a reset is
 * recognised as stale and dropped.
 */
export class ReusableChain implements DescriptorChain {
  id: number;
  generation: number;
  readonly readable: ChainSegment[] = [];
  readonly writable: ChainSegment[] = [];
  readableLength = 0;
  writableLength = 0;
  /** Segments filled by the walk in progress. */
  #r = 0;
  #w = 0;

  constructor(id: number, generation: number) {
    this.id = id;
    this.generation = generation;
  }

  /** Starts a walk: no segments yet. */
  begin(): void {
    this.#r = 0;
    this.#w = 0;
    this.readableLength = 0;
    this.writableLength = 0;
  }

  /** True once a writable segment was added in this walk. */
  get hasWritable(): boolean {
    return this.#w !== 0;
  }

  addReadable(addr: number, len: number): void {
    const k = this.#r++;
    if (k < this.readable.length) {
      const s = this.readable[k];
      s.addr = addr;
      s.len = len;
    } else {
      this.readable.push(new ChainSegment(addr, len));
    }
    this.readableLength += len;
  }

  addWritable(addr: number, len: number): void {
    const k = this.#w++;
    if (k < this.writable.length) {
      const s = this.writable[k];
      s.addr = addr;
      s.len = len;
    } else {
      this.writable.push(new ChainSegment(addr, len));
    }
    this.writableLength += len;
  }

  /** Ends a walk: drops segments left over from a longer chain this head held before. */
  end(): void {
    if (this.readable.length !== this.#r) this.readable.length = this.#r;
    if (this.writable.length !== this.#w) this.writable.length = this.#w;
  }
}
