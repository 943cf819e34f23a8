/**
 * A bounded FIFO of bytes in one preallocated buffer: the bytes a port holds for the guest
 * until it posts receive buffers. No allocation per push or take.
 */
export class ByteRing {
  readonly #buf: Uint8Array;
  #head = 0;
  #length = 0;

  /** @param capacity in bytes (>= 1) */
  constructor(capacity: number) {
    this.#buf = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.#buf.length;
  }
  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Appends as much of `src` as fits. @returns bytes accepted */
  push(src: Uint8Array): number {
    const buf = this.#buf;
    const n = Math.min(src.length, buf.length - this.#length);
    let tail = this.#head + this.#length;
    if (tail >= buf.length) tail -= buf.length;
    const first = Math.min(n, buf.length - tail);
    buf.set(src.subarray(0, first), tail);
    if (n > first) buf.set(src.subarray(first, n), 0);
    this.#length += n;
    return n;
  }

  /** Moves the oldest bytes into `dest`, as many as fit. @returns bytes moved */
  take(dest: Uint8Array): number {
    const buf = this.#buf;
    const n = Math.min(dest.length, this.#length);
    const first = Math.min(n, buf.length - this.#head);
    dest.set(buf.subarray(this.#head, this.#head + first), 0);
    if (n > first) dest.set(buf.subarray(0, n - first), first);
    this.#head += n;
    if (this.#head >= buf.length) this.#head -= buf.length;
    this.#length -= n;
    if (this.#length === 0) this.#head = 0;
    return n;
  }

  clear(): void {
    this.#head = 0;
    this.#length = 0;
  }
}
