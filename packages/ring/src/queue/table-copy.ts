import type { GuestMemory } from '../memory/guest-memory.js';

/**
 * The device side's private copy of an indirect descriptor table: walked from host memory the
 * driver cannot reach, so it cannot change the table mid-walk. The buffer grows to the largest
 * table seen and is reused; a table of the same length as the last needs no new view.
 */
export class TableCopy {
  #bytes = new Uint8Array(0);
  #view = new Uint8Array(0);
  /** The copy as host-order u32 and u16 words (fields are little-endian: use le32 / le16). */
  words32 = new Uint32Array(0);
  words16 = new Uint16Array(0);

  /** Copies the `len` bytes at guest-physical `addr`. @throws GuestMemoryError outside guest memory */
  load(memory: GuestMemory, addr: number, len: number): void {
    if (this.#bytes.byteLength < len) {
      let cap = 256;
      while (cap < len) cap *= 2;
      this.#bytes = new Uint8Array(cap);
      this.words32 = new Uint32Array(this.#bytes.buffer);
      this.words16 = new Uint16Array(this.#bytes.buffer);
    }
    if (this.#view.byteLength !== len || this.#view.buffer !== this.#bytes.buffer) this.#view = this.#bytes.subarray(0, len);
    memory.read(addr, this.#view);
  }
}
