import type { SpiPeripheral } from './bus.js';

/** 25xx-family instruction bytes understood by {@link SpiEeprom}. */
export const SPI_EEPROM_READ = 0x03;
export const SPI_EEPROM_WRITE = 0x02;
export const SPI_EEPROM_RDSR = 0x05;

export interface SpiEepromOptions {
  /** Size in bytes (1..65536); addresses are 2 bytes, wrapping at the size. */
  readonly size: number;
  /** Initial contents (copied; default all 0xff). */
  readonly contents?: Uint8Array;
}

/**
 * An EEPROM-like SPI peripheral (25xx family): after chip select, an instruction byte —
 * READ (0x03) or WRITE (0x02) followed by a 2-byte address, then data streamed out or in with
 * auto-increment; RDSR (0x05) answers status 0 (ready). Other instructions are ignored. Chip
 * select deassertion ends the instruction.
 */
export class SpiEeprom implements SpiPeripheral {
  readonly contents: Uint8Array;
  /** Bytes of the current instruction clocked so far (instruction, address, data). */
  #pos = 0;
  #op = 0;
  #addr = 0;

  /** @throws RangeError for a size outside 1..65536 */
  constructor(opts: SpiEepromOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || opts.size > 0x10000) throw new RangeError(`spi: eeprom size ${opts.size} outside 1..65536`);
    this.contents = new Uint8Array(opts.size).fill(0xff);
    if (opts.contents) this.contents.set(opts.contents.subarray(0, opts.size));
  }

  exchange(tx: Uint8Array, rx: Uint8Array, n: number): boolean {
    for (let i = 0; i < n; i++) {
      const out = this.#clock(i < tx.length ? tx[i] : 0xff);
      if (i < rx.length) rx[i] = out;
    }
    return true;
  }

  deselect(): void {
    this.#pos = 0;
  }

  /** One byte in, one byte out. */
  #clock(inByte: number): number {
    const pos = this.#pos++;
    const size = this.contents.length;
    if (pos === 0) {
      this.#op = inByte;
      return 0xff;
    }
    if (this.#op === SPI_EEPROM_RDSR) return 0;
    if (this.#op !== SPI_EEPROM_READ && this.#op !== SPI_EEPROM_WRITE) return 0xff;
    if (pos === 1) {
      this.#addr = inByte << 8;
      return 0xff;
    }
    if (pos === 2) {
      this.#addr = (this.#addr | inByte) % size;
      return 0xff;
    }
    const at = this.#addr;
    this.#addr = (at + 1) % size;
    if (this.#op === SPI_EEPROM_WRITE) {
      this.contents[at] = inByte;
      return 0xff;
    }
    return this.contents[at];
  }
}
