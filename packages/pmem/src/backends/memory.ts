import type { PmemBackend } from './backend.js';

/**
 * Persistent memory held in a byte array the VMM maps into the guest (e.g. as a region of a
 * RegionGuestMemory); "durable storage" is a second array that each flush copies the bytes to,
 * so tests can simulate a power failure by looking at {@link persisted} only.
 */
export class MemoryPmemBackend implements PmemBackend {
  /** The guest-visible bytes. */
  readonly bytes: Uint8Array;
  /** What survives a power failure: the bytes as of the last successful flush. */
  readonly persisted: Uint8Array;
  #flushes = 0;
  #failNext = 0;

  /** @param bytes the guest-visible bytes (length > 0) */
  constructor(bytes: Uint8Array) {
    if (bytes.length === 0) throw new RangeError('pmem: empty backing');
    this.bytes = bytes;
    this.persisted = new Uint8Array(bytes.length);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Successful flushes so far. */
  get flushes(): number {
    return this.#flushes;
  }

  /** Makes the next `n` flushes fail (a host I/O error). */
  failNextFlushes(n: number): void {
    this.#failNext = n;
  }

  flush(): void {
    if (this.#failNext > 0) {
      this.#failNext--;
      throw new Error('pmem: simulated flush failure');
    }
    this.persisted.set(this.bytes);
    this.#flushes++;
  }
}

/** A backend whose flush is a host callback (e.g. msync of a file mapping in the VMM). */
export class CallbackPmemBackend implements PmemBackend {
  readonly size: number;
  readonly #flush: () => void | Promise<void>;

  /** @throws RangeError for a size that is not a positive integer */
  constructor(size: number, flush: () => void | Promise<void>) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`pmem: size ${size}`);
    this.size = size;
    this.#flush = flush;
  }

  flush(): void | Promise<void> {
    return this.#flush();
  }
}
