import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes console bytes synchronously to `fd` from any thread. The terminal's file
 * description may be non-blocking (Node puts stdin in non-blocking mode, and a TTY shares it
 * with stdout): EAGAIN waits a millisecond and retries, so no byte is lost.
 */
export class ConsoleWriter {
  readonly #fd: number;
  readonly #one = new Uint8Array(1);

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Writes one byte. */
  byte(b: number): void {
    this.#one[0] = b;
    this.bytes(this.#one);
  }

  /** Writes all of `data`. Errors other than EAGAIN (e.g. EPIPE) drop the output. */
  bytes(data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      try {
        at += writeSync(this.#fd, data, at, data.length - at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  }
}
