import { VIRTIO_SPI_MODE_LOOP } from '../protocol.js';
import type { SpiBackend, SpiTransfer } from './backend.js';

/**
 * A peripheral on a simulated SPI bus. While its chip select is asserted it exchanges bytes:
 * each clocked byte in `tx` (0xff when the master only reads) yields one byte for `rx`.
 */
export interface SpiPeripheral {
  /** Exchanges `n` bytes: `tx` (shorter than `n` when the master only reads) in, `rx` (shorter when it only writes) out. Return false for a failure. */
  exchange(tx: Uint8Array, rx: Uint8Array, n: number): boolean;
  /** Chip select deasserted: the peripheral ends its current command. */
  deselect?(): void;
}

/**
 * An in-memory SPI bus: peripherals at chip selects. Chip select stays asserted between
 * transfers to the same peripheral until a transfer with cs_change = 1 ends or another chip
 * select is addressed. A transfer to an empty chip select fails. VIRTIO_SPI_MODE_LOOP echoes tx.
 */
export class SimulatedSpiBus implements SpiBackend {
  readonly #peripherals = new Map<number, SpiPeripheral>();
  #selected: SpiPeripheral | undefined;

  /** @throws RangeError for a chip select outside 0..255 or already taken */
  attach(chipSelect: number, p: SpiPeripheral): this {
    if (!Number.isInteger(chipSelect) || chipSelect < 0 || chipSelect > 0xff) throw new RangeError(`spi: chip select ${chipSelect} outside 0..255`);
    if (this.#peripherals.has(chipSelect)) throw new RangeError(`spi: chip select ${chipSelect} is taken`);
    this.#peripherals.set(chipSelect, p);
    return this;
  }

  transfer(t: SpiTransfer): boolean {
    // Loopback: the controller echoes tx into rx, no peripheral involved.
    if (t.head.mode & VIRTIO_SPI_MODE_LOOP) {
      t.rx.set(t.tx.subarray(0, t.rx.length));
      return true;
    }
    const p = this.#peripherals.get(t.head.chipSelectId);
    if (p !== this.#selected) this.#deselect();
    if (!p) return false;
    this.#selected = p;
    const ok = p.exchange(t.tx, t.rx, Math.max(t.tx.length, t.rx.length));
    if (t.head.csChange === 1 || !ok) this.#deselect();
    return ok;
  }

  /** Deasserts the current chip select (e.g. at the end of a guest's message). */
  #deselect(): void {
    this.#selected?.deselect?.();
    this.#selected = undefined;
  }
}
