/**
 * The MSI-X capability's state ([PCI] 6.8.2): the table (Message Address, Message Data,
 * Vector Control per vector) and the Pending Bit Array, both in the MSI-X BAR, and the
 * MSI-X Enable / Function Mask bits of Message Control. A vector that fires while it or
 * the whole function is masked becomes pending and is sent when unmasked.
 */
import type { MutableCounters } from './counters.js';
import {
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
} from '../protocol.js';

/** Receives an MSI-X message: the table entry's address (two 32-bit halves) and data. */
export type MsiSender = (vector: number, addressLo: number, addressHi: number, data: number) => void;

/** One MSI-X table entry as the driver programmed it. */
export interface MsixEntry {
  readonly addressLo: number;
  readonly addressHi: number;
  readonly data: number;
  readonly masked: boolean;
}

export class Msix {
  readonly vectors: number;
  /** Four u32 per entry: address lo, address hi, data, vector control. */
  readonly #table: Uint32Array;
  /** One bit per vector. */
  readonly #pba: Uint32Array;
  #enabled = false;
  #functionMasked = false;
  readonly #send: MsiSender;
  readonly #counters: MutableCounters;
  readonly #entryChanged: ((vector: number) => void) | undefined;

  /** `entryChanged` is told when the driver rewrote a vector's Message Address or Data. */
  constructor(vectors: number, send: MsiSender, counters: MutableCounters, entryChanged?: (vector: number) => void) {
    this.vectors = vectors;
    this.#entryChanged = entryChanged;
    this.#table = new Uint32Array(vectors * 4);
    this.#pba = new Uint32Array(Math.ceil(vectors / 64) * 2);
    this.#send = send;
    this.#counters = counters;
    this.reset();
  }

  /** MSI-X Enable is set in Message Control. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Function reset: every vector masked, nothing pending, MSI-X disabled ([PCI] 6.8.2.9). */
  reset(): void {
    this.#table.fill(0);
    for (let v = 0; v < this.vectors; v++) this.#table[v * 4 + 3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    this.#pba.fill(0);
    this.#enabled = false;
    this.#functionMasked = false;
  }

  /** Applies a Message Control value written to the capability. */
  setControl(flags: number): void {
    this.#enabled = (flags & PCI_MSIX_FLAGS_ENABLE) !== 0;
    this.#functionMasked = (flags & PCI_MSIX_FLAGS_MASKALL) !== 0;
    this.#flushPending();
  }

  /** Table entry `vector` as programmed. @throws RangeError when `vector` is not in the table (a caller bug). */
  entry(vector: number): MsixEntry {
    if (!Number.isInteger(vector) || vector < 0 || vector >= this.vectors) throw new RangeError(`no MSI-X vector ${vector}`);
    const t = this.#table;
    const i = vector * 4;
    return { addressLo: t[i], addressHi: t[i + 1], data: t[i + 2], masked: (t[i + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0 };
  }

  /** Whether `vector`'s pending bit is set. */
  pending(vector: number): boolean {
    return ((this.#pba[vector >>> 5] >>> (vector & 31)) & 1) !== 0;
  }

  /**
   * Signals `vector` (a valid table index): sends its message, or sets its pending bit when
   * the vector or the function is masked. Only meaningful while MSI-X is enabled.
   */
  fire(vector: number): void {
    if (this.#functionMasked || (this.#table[vector * 4 + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0) {
      if (!this.pending(vector)) this.#counters.msiPending++;
      this.#pba[vector >>> 5] |= 1 << (vector & 31);
      return;
    }
    this.#deliver(vector);
  }

  /** A driver read of the table at byte `offset`; only aligned dwords answer. */
  readTable(offset: number, width: number): number {
    if (width !== 4 || offset % 4 !== 0 || offset < 0 || offset >= this.vectors * PCI_MSIX_ENTRY_SIZE) {
      this.#counters.ignoredReads++;
      return 0;
    }
    return this.#table[offset >>> 2];
  }

  /** A driver write of the table; unmasking a vector with its pending bit set sends it. */
  writeTable(offset: number, width: number, value: number): void {
    if (width !== 4 || offset % 4 !== 0 || offset < 0 || offset >= this.vectors * PCI_MSIX_ENTRY_SIZE) {
      this.#counters.ignoredWrites++;
      return;
    }
    const field = offset % PCI_MSIX_ENTRY_SIZE;
    // Vector Control: only the Mask Bit is writable; the other bits are reserved.
    this.#table[offset >>> 2] = field === PCI_MSIX_ENTRY_VECTOR_CTRL ? value & PCI_MSIX_ENTRY_CTRL_MASKBIT : value >>> 0;
    if (field === PCI_MSIX_ENTRY_VECTOR_CTRL) this.#flushPending();
    else this.#entryChanged?.(Math.floor(offset / PCI_MSIX_ENTRY_SIZE));
  }

  /** A driver read of the Pending Bit Array (read-only). */
  readPba(offset: number, width: number): number {
    if (width !== 4 || offset % 4 !== 0 || offset < 0 || offset >= this.#pba.byteLength) {
      this.#counters.ignoredReads++;
      return 0;
    }
    return this.#pba[offset >>> 2];
  }

  #flushPending(): void {
    if (!this.#enabled || this.#functionMasked) return;
    for (let w = 0; w < this.#pba.length; w++) {
      let bits = this.#pba[w];
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits);
        bits &= ~(1 << bit);
        const vector = w * 32 + bit;
        if ((this.#table[vector * 4 + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) === 0) {
          this.#pba[w] &= ~(1 << bit);
          this.#deliver(vector);
        }
      }
    }
  }

  #deliver(vector: number): void {
    const i = vector * 4;
    this.#counters.msiMessages++;
    this.#send(vector, this.#table[i], this.#table[i + 1], this.#table[i + 2]);
  }
}
