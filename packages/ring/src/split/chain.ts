import type { DescriptorChain, Segment } from '../queue/types.js';

/**
 * A chain popped from a split queue. `generation` ties it to the queue state it came from,
 * so a push after a queue reset is recognised as stale and dropped.
 */
export class SplitChain implements DescriptorChain {
  constructor(
    readonly id: number,
    readonly readable: readonly Segment[],
    readonly writable: readonly Segment[],
    readonly readableLength: number,
    readonly writableLength: number,
    readonly generation: number,
  ) {}
}
