/** The line Linux prints when it panics. */
export const PANIC_MARKER = 'Kernel panic - not syncing';
const MAX_LINE = 512;

/**
 * Watches the guest console byte stream for a kernel panic line; `onPanic` gets the line
 * (without the newline) once, when it ends.
 */
export class PanicDetector {
  readonly #line = new Uint8Array(MAX_LINE);
  #length = 0;
  #fired = false;
  readonly #onPanic: (line: string) => void;

  constructor(onPanic: (line: string) => void) {
    this.#onPanic = onPanic;
  }

  /** Feeds one console byte. */
  push(byte: number): void {
    if (byte === 0x0a) {
      if (!this.#fired) {
        const text = new TextDecoder().decode(this.#line.subarray(0, this.#length)).replace(/\r$/, '');
        if (text.includes(PANIC_MARKER)) {
          this.#fired = true;
          this.#onPanic(text.slice(text.indexOf(PANIC_MARKER)));
        }
      }
      this.#length = 0;
    } else if (this.#length < MAX_LINE) {
      this.#line[this.#length++] = byte;
    }
  }
}
