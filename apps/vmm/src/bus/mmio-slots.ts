/** One virtio-mmio window: guest-physical base, size in bytes, and its IOAPIC pin (GSI). */
export interface MmioSlot {
  readonly base: number;
  readonly size: number;
  readonly gsi: number;
}

/**
 * Hands out windows for virtio-mmio devices in the PCI hole (base + i * stride) with
 * edge-triggered IOAPIC pins from `gsis`; the DSDT describes every slot taken (LNRO0005).
 */
export class MmioSlots {
  readonly #region: { readonly base: number; readonly stride: number };
  readonly #gsis: readonly number[];
  readonly taken: MmioSlot[] = [];

  constructor(region: { readonly base: number; readonly stride: number }, gsis: readonly number[]) {
    this.#region = region;
    this.#gsis = gsis;
  }

  /**
   * Takes the next window.
   * @throws RangeError when all windows are used.
   */
  take(): MmioSlot {
    const i = this.taken.length;
    if (i >= this.#gsis.length) throw new RangeError(`no free virtio-mmio slot (${this.#gsis.length} in use)`);
    const slot = { base: this.#region.base + i * this.#region.stride, size: this.#region.stride, gsi: this.#gsis[i] };
    this.taken.push(slot);
    return slot;
  }
}
