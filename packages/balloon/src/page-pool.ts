/**
 * Where the balloon driver gets guest pages to give and puts back pages it takes back: the guest
 * allocator's side of ballooning. Page frame numbers are guest-physical addresses / 4096.
 */
export interface GuestPagePool {
  /** Takes up to `n` free 4096-byte pages out of the guest's use; returns their page frame numbers (maybe fewer). */
  take(n: number): number[];
  /** Returns pages to the guest's use. */
  give(pfns: readonly number[]): void;
}

/** A pool over a contiguous guest-physical range, for tests and simple guests. */
export class RangePagePool implements GuestPagePool {
  readonly #free: number[] = [];

  /**
   * @param start guest-physical address of the first page (4096-aligned)
   * @param pages number of 4096-byte pages
   * @throws RangeError for an unaligned start or a bad count
   */
  constructor(start: number, pages: number) {
    if (start % 4096 !== 0 || !Number.isInteger(pages) || pages < 0) throw new RangeError(`page pool: start 0x${start.toString(16)}, ${pages} pages`);
    for (let i = pages - 1; i >= 0; i--) this.#free.push(start / 4096 + i);
  }

  /** Pages currently free. */
  get available(): number {
    return this.#free.length;
  }

  take(n: number): number[] {
    const out: number[] = [];
    while (out.length < n && this.#free.length > 0) out.push(this.#free.pop()!);
    return out;
  }

  give(pfns: readonly number[]): void {
    for (const p of pfns) this.#free.push(p);
  }
}
