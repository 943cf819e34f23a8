import type { GuestAllocator } from '../queue/types.js';
import { checkRequest } from './bump.js';

interface Block {
  addr: number;
  len: number;
}

/**
 * A first-fit allocator over a guest range with freeing and coalescing: for driver queues
 * whose indirect tables and buffers come and go. Bookkeeping lives in host memory only.
 */
export class FreeListAllocator implements GuestAllocator {
  /** Free blocks sorted by address, never adjacent (coalesced). */
  readonly #free: Block[];
  /** Allocated address -> length in bytes. */
  readonly #used = new Map<number, number>();

  /** @param base guest-physical address of the range; @param len its size in bytes. */
  constructor(base: number, len: number) {
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(len) || base < 0 || len < 0) {
      throw new RangeError(`bad allocator range [${base}, +${len})`);
    }
    this.#free = len > 0 ? [{ addr: base, len }] : [];
  }

  /** Bytes currently free (possibly fragmented). */
  get freeBytes(): number {
    return this.#free.reduce((n, b) => n + b.len, 0);
  }

  /** @throws RangeError for a bad length or alignment; Error when no free block fits. */
  alloc(len: number, align: number): number {
    checkRequest(len, align);
    const size = Math.max(len, 1);
    for (let i = 0; i < this.#free.length; i++) {
      const b = this.#free[i];
      const addr = Math.ceil(b.addr / align) * align;
      const end = addr + size;
      if (end > b.addr + b.len) continue;
      const pieces: Block[] = [];
      if (addr > b.addr) pieces.push({ addr: b.addr, len: addr - b.addr });
      if (end < b.addr + b.len) pieces.push({ addr: end, len: b.addr + b.len - end });
      this.#free.splice(i, 1, ...pieces);
      this.#used.set(addr, size);
      return addr;
    }
    throw new Error(`guest allocator exhausted: ${len} bytes aligned to ${align}`);
  }

  /** Returns a block from {@link alloc}. @throws RangeError for an address it did not hand out. */
  free(addr: number): void {
    const len = this.#used.get(addr);
    if (len === undefined) throw new RangeError(`0x${addr.toString(16)} was not allocated here`);
    this.#used.delete(addr);
    let i = 0;
    while (i < this.#free.length && this.#free[i].addr < addr) i++;
    this.#free.splice(i, 0, { addr, len });
    // Coalesce with the following, then the preceding block.
    if (i + 1 < this.#free.length && addr + len === this.#free[i + 1].addr) {
      this.#free[i].len += this.#free[i + 1].len;
      this.#free.splice(i + 1, 1);
    }
    if (i > 0 && this.#free[i - 1].addr + this.#free[i - 1].len === addr) {
      this.#free[i - 1].len += this.#free[i].len;
      this.#free.splice(i, 1);
    }
  }
}
