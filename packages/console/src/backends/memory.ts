import type { PortBackend } from './backend.js';

/** A {@link PortBackend} that keeps everything the guest wrote, in memory (tests, capture). */
export class MemoryPortBackend implements PortBackend {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;
  /** The guest's last open state (undefined until it sent one). */
  guestOpen: boolean | undefined;

  write(data: Uint8Array): void {
    this.#chunks.push(data.slice());
    this.#length += data.length;
  }

  guestOpened(open: boolean): void {
    this.guestOpen = open;
  }

  /** Bytes written so far, in bytes. */
  get length(): number {
    return this.#length;
  }

  /** All bytes written so far, concatenated. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  /** All bytes written so far, decoded as UTF-8. */
  text(): string {
    return new TextDecoder().decode(this.bytes());
  }

  clear(): void {
    this.#chunks.length = 0;
    this.#length = 0;
  }
}
