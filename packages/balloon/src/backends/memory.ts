import type { GuestMemory } from '@virtio/ring';
import type { BalloonStats, PageRange } from '../protocol.js';
import type { BalloonBackend } from './backend.js';

export interface MemoryBalloonBackendOptions {
  /**
   * Overwrite pages given to the host (inflated, reported, hinted) as a host that drops their
   * backing would: zeros, or the repeated le32 poison_val for reported pages under
   * VIRTIO_BALLOON_F_PAGE_POISON. Default true.
   */
  readonly discard?: boolean;
}

/**
 * An in-memory backend that records what the guest released and reclaimed: the set of 4096-byte
 * pages currently in the balloon, reported and hinted ranges, the last statistics.
 */
export class MemoryBalloonBackend implements BalloonBackend {
  readonly #discard: boolean;
  /** Guest-physical addresses (bytes) of the 4096-byte pages in the balloon. */
  readonly inBalloon = new Set<number>();
  readonly reported: PageRange[] = [];
  readonly hinted: { readonly cmdId: number; readonly range: PageRange }[] = [];
  lastStats: BalloonStats | undefined;

  constructor(opts: MemoryBalloonBackendOptions = {}) {
    this.#discard = opts.discard ?? true;
  }

  inflate(ranges: readonly PageRange[], memory: GuestMemory): void {
    for (const r of ranges) {
      for (let a = r.addr; a < r.addr + r.len; a += 4096) this.inBalloon.add(a);
      if (this.#discard) fill(memory, r, 0);
    }
  }

  deflate(ranges: readonly PageRange[]): void {
    for (const r of ranges) for (let a = r.addr; a < r.addr + r.len; a += 4096) this.inBalloon.delete(a);
  }

  report(ranges: readonly PageRange[], memory: GuestMemory, poison: number | undefined): void {
    for (const r of ranges) {
      this.reported.push(r);
      if (this.#discard) fill(memory, r, poison ?? 0);
    }
  }

  hint(ranges: readonly PageRange[], memory: GuestMemory, cmdId: number): void {
    for (const r of ranges) {
      this.hinted.push({ cmdId, range: r });
      if (this.#discard) fill(memory, r, 0);
    }
  }

  /** The device set DONE: hinted pages belong to the guest again; forget them. */
  hintsDone(): void {
    this.hinted.length = 0;
  }

  stats(stats: BalloonStats): void {
    this.lastStats = stats;
  }
}

/** Fills the range with the repeated little-endian u32 `value`. */
function fill(memory: GuestMemory, r: PageRange, value: number): void {
  for (const view of memory.views(r.addr, r.len)) {
    if (value === 0) {
      view.fill(0);
      continue;
    }
    for (let i = 0; i < view.length; i++) view[i] = (value >>> ((i & 3) * 8)) & 0xff;
  }
}
