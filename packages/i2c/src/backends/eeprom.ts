import type { I2cTarget } from './bus.js';

export interface I2cEepromOptions {
  /** Size in bytes (1..65536). */
  readonly size: number;
  /** Bytes of the word address sent first in a write: 1 (24C02-like) or 2 (24C32-like). Default 1 when size <= 256, else 2. */
  readonly addressBytes?: 1 | 2;
  /** Write page size in bytes (a power of two); writes wrap within a page as on real parts. Default: no paging. */
  readonly pageSize?: number;
  /** Initial contents (copied; default all 0xff, as an erased part). */
  readonly contents?: Uint8Array;
}

/**
 * An EEPROM-like I2C target (24Cxx family): a write sends the word address then data bytes
 * stored from there; a read returns bytes from the current address; the address auto-increments
 * and wraps at the end of the memory.
 */
export class I2cEeprom implements I2cTarget {
  /** The memory, readable and writable by the host. */
  readonly contents: Uint8Array;
  readonly addressBytes: 1 | 2;
  readonly #page: number;
  #pointer = 0;

  /** @throws RangeError for a bad size, address width or page size */
  constructor(opts: I2cEepromOptions) {
    const size = opts.size;
    if (!Number.isInteger(size) || size < 1 || size > 0x10000) throw new RangeError(`i2c: eeprom size ${size} outside 1..65536`);
    this.addressBytes = opts.addressBytes ?? (size <= 256 ? 1 : 2);
    if (this.addressBytes !== 1 && this.addressBytes !== 2) throw new RangeError(`i2c: eeprom addressBytes ${opts.addressBytes}`);
    const page = opts.pageSize ?? size;
    if (!Number.isInteger(page) || page < 1 || (page & (page - 1)) !== 0) throw new RangeError(`i2c: eeprom pageSize ${page} is not a power of two`);
    this.#page = page;
    this.contents = new Uint8Array(size).fill(0xff);
    if (opts.contents) this.contents.set(opts.contents.subarray(0, size));
  }

  /** The current word address. */
  get pointer(): number {
    return this.#pointer;
  }

  write(data: Uint8Array): boolean {
    if (data.length === 0) return true;
    if (data.length < this.addressBytes) return false;
    const size = this.contents.length;
    this.#pointer = (this.addressBytes === 1 ? data[0] : (data[0] << 8) | data[1]) % size;
    const pageStart = this.#pointer - (this.#pointer % this.#page);
    let at = this.#pointer;
    for (let i = this.addressBytes; i < data.length; i++) {
      this.contents[at] = data[i];
      at = pageStart + ((at - pageStart + 1) % this.#page);
      if (at >= size) at = pageStart;
    }
    if (data.length > this.addressBytes) this.#pointer = at;
    return true;
  }

  read(data: Uint8Array): boolean {
    const size = this.contents.length;
    for (let i = 0; i < data.length; i++) {
      data[i] = this.contents[this.#pointer];
      this.#pointer = (this.#pointer + 1) % size;
    }
    return true;
  }
}
