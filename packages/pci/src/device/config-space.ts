/**
 * The 256-byte PCI configuration space of one function as bytes plus a per-bit write mask:
 * read-only fields have a zero mask, read-write fields a one mask, and a BAR's mask is the
 * complement of its size minus one, which is what makes BAR sizing work ([PCI] 6.2.5.1:
 * writing all ones reads back the size mask). Parts with side effects (the MSI-X Message
 * Control, the VIRTIO_PCI_CAP_PCI_CFG window, the command register) register hooks.
 */
import { PCI_CONFIG_SPACE_SIZE } from '../protocol.js';

/** Called after a write that overlapped a hooked range, with the access's offset and width. */
export type ConfigWriteHook = (offset: number, width: 1 | 2 | 4) => void;
/** Called before a read of a hooked range, so the owner can refresh the bytes. */
export type ConfigReadHook = (offset: number, width: 1 | 2 | 4) => void;

interface Hook {
  readonly start: number;
  readonly end: number;
  readonly onRead?: ConfigReadHook;
  readonly onWrite?: ConfigWriteHook;
}

export class ConfigSpace {
  readonly bytes = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  readonly #mask = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  readonly #hooks: Hook[] = [];

  /** Sets a read-only field of `width` bytes (device-side initialisation, not a driver write). */
  set(offset: number, width: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < width; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  /** Reads `width` bytes little-endian without side effects. */
  get(offset: number, width: 1 | 2 | 4): number {
    let v = 0;
    for (let i = 0; i < width; i++) v |= this.bytes[offset + i] << (8 * i);
    return v >>> 0;
  }

  /** Sets the driver-writable bits of a `width`-byte field. */
  writable(offset: number, width: 1 | 2 | 4, mask: number): void {
    for (let i = 0; i < width; i++) this.#mask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  /** Registers side effects for `[start, end)`. Ranges must not overlap. */
  hook(start: number, end: number, onRead?: ConfigReadHook, onWrite?: ConfigWriteHook): void {
    this.#hooks.push({ start, end, onRead, onWrite });
  }

  /** A driver read; `offset` is in range and aligned to `width` (the caller checked). */
  read(offset: number, width: 1 | 2 | 4): number {
    this.#find(offset, width)?.onRead?.(offset, width);
    return this.get(offset, width);
  }

  /** A driver write: only bits in the write mask change. */
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < width; i++) {
      const m = this.#mask[offset + i];
      const b = (value >>> (8 * i)) & 0xff;
      this.bytes[offset + i] = (this.bytes[offset + i] & ~m) | (b & m);
    }
    this.#find(offset, width)?.onWrite?.(offset, width);
  }

  #find(offset: number, width: number): Hook | undefined {
    for (const h of this.#hooks) if (offset < h.end && offset + width > h.start) return h;
    return undefined;
  }
}
