/** Word indices in a PCI bus's shared configuration-mechanism state. */
export const PCI_SHARED = { CF8: 0, PRESENT: 1 } as const;
/** Bytes of the shared state: CONFIG_ADDRESS and the bitmap of populated bus 0 slots. */
export const PCI_SHARED_BYTES = 8;

/**
 * The part of configuration mechanism #1 (ports 0xCF8-0xCFF) a vCPU thread can serve on
 * its own, over state the PciBus shares: CONFIG_ADDRESS itself, and CONFIG_DATA accesses
 * that address no function (other buses, functions 1-7, empty slots) — they read as all ones
 * and writes vanish. Linux scans all 256 buses at boot (AMD GART aperture check): some 33,000
 * accesses that need no device model. Accesses to populated slots go to the device model.
 */
export class PciConfigFilter {
  readonly #s: Int32Array;

  constructor(shared: SharedArrayBuffer) {
    this.#s = new Int32Array(shared, 0, PCI_SHARED_BYTES / 4);
  }

  /**
   * Serves the port access if it needs no device model. `data` holds size * count bytes
   * (little-endian) to write, or receives those read. Returns false when it must be forwarded.
   */
  tryServe(port: number, size: number, count: number, isWrite: boolean, data: Uint8Array): boolean {
    if (port < 0xcf8 || port > 0xcff || count !== 1) return false;
    const s = this.#s;
    if (port === 0xcf8) {
      if (size !== 4) return false;
      if (isWrite) Atomics.store(s, PCI_SHARED.CF8, (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) & 0x80fffffc);
      else {
        const v = Atomics.load(s, PCI_SHARED.CF8);
        for (let i = 0; i < 4; i++) data[i] = (v >>> (8 * i)) & 0xff;
      }
      return true;
    }
    if (port < 0xcfc) return false;
    const a = Atomics.load(s, PCI_SHARED.CF8);
    const bus = (a >>> 16) & 0xff;
    const dev = (a >>> 11) & 31;
    const fn = (a >>> 8) & 7;
    const present = a < 0 && bus === 0 && fn === 0 && (Atomics.load(s, PCI_SHARED.PRESENT) >>> dev) & 1;
    if (present) return false;
    if (!isWrite) data.fill(0xff, 0, size);
    return true;
  }
}
