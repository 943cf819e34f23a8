import type { GuestAllocator } from '../queue/types.js';

/**
 * Hands out a guest range front to back and never reuses it: for rings and tables that live as
 * long as the range (tests, a driver that sets its queues up once). `free` does not return
 * memory; use {@link FreeListAllocator} when buffers come and go.
 */
export class BumpAllocator implements GuestAllocator {
  #next: number;
  readonly #end: number;

  /** @param base guest-physical address of the range; @param len its size in bytes. */
  constructor(base: number, len: number) {
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(len) || base < 0 || len < 0) {
      throw new RangeError(`bad allocator range [${base}, +${len})`);
    }
    this.#next = base;
    this.#end = base + len;
  }

  /** @throws RangeError for a bad length or alignment; Error when the range is exhausted. */
  alloc(len: number, align: number): number {
    checkRequest(len, align);
    const addr = Math.ceil(this.#next / align) * align;
    if (addr + len > this.#end) throw new Error(`guest allocator exhausted: ${len} bytes aligned to ${align}`);
    this.#next = addr + len;
    return addr;
  }

  /** Bump allocation never reuses memory: the range is released as a whole by dropping the allocator. */
  free(_addr: number): void {}
}

export function checkRequest(len: number, align: number): void {
  if (!Number.isSafeInteger(len) || len < 0) throw new RangeError(`bad allocation length ${len}`);
  if (!Number.isSafeInteger(align) || align < 1 || (align & (align - 1)) !== 0) {
    throw new RangeError(`allocation alignment ${align} is not a power of two`);
  }
}
