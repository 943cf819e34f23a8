/**
 * A device on the port I/O or MMIO bus. `offset` is relative to the device's base; `size` is
 * 1, 2 or 4 bytes; values are unsigned and fit in `size` bytes. Devices must not throw on
 * guest input: every value written is guest-controlled.
 */
export interface BusDevice {
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

interface Range {
  readonly base: number;
  readonly length: number;
  readonly device: BusDevice;
  readonly name: string;
}

/** Raised when a registration overlaps an existing range. */
export class BusConflictError extends Error {
  override name = 'BusConflictError';
}

/**
 * An address-decoding bus (used for port I/O and for MMIO): devices own [base, base+length).
 * Accesses that no device claims read as all ones, are dropped when written, and are counted
 * (`unclaimedReads`, `unclaimedWrites`); they are never fatal. 8-byte accesses are split into
 * two 4-byte accesses (low half first); other odd sizes (3, 5-7 bytes) count as unclaimed.
 */
export class Bus {
  readonly #ranges: Range[] = [];
  unclaimedReads = 0;
  unclaimedWrites = 0;

  /**
   * Claims [base, base + length) for `device`.
   * @throws BusConflictError on overlap with an existing range.
   */
  register(base: number, length: number, device: BusDevice, name: string): void {
    if (!(length > 0)) throw new RangeError(`bus range ${name} has length ${length}`);
    const clash = this.#ranges.find((r) => base < r.base + r.length && r.base < base + length);
    if (clash) throw new BusConflictError(`${name} at 0x${base.toString(16)} overlaps ${clash.name}`);
    this.#ranges.push({ base, length, device, name });
    this.#ranges.sort((a, b) => a.base - b.base);
  }

  #find(addr: number): Range | undefined {
    const ranges = this.#ranges;
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = ranges[mid];
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.base + r.length) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** True when a device owns `addr`. */
  claims(addr: number): boolean {
    return this.#find(addr) !== undefined;
  }

  /** Reads `size` (1, 2, 4 or 8) bytes at `addr`; 8-byte values above 2^53 lose precision. */
  read(addr: number, size: number): number {
    if (size === 8) return this.read(addr, 4) + this.read(addr + 4, 4) * 2 ** 32;
    const r = this.#find(addr);
    if (!r || addr + size > r.base + r.length || !(size === 1 || size === 2 || size === 4)) {
      this.unclaimedReads++;
      return 2 ** (Math.min(size, 6) * 8) - 1;
    }
    return r.device.read(addr - r.base, size);
  }

  /** Writes `size` (1, 2, 4 or 8) bytes at `addr`. */
  write(addr: number, size: number, value: number): void {
    if (size === 8) {
      this.write(addr, 4, value >>> 0);
      this.write(addr + 4, 4, Math.floor(value / 2 ** 32) >>> 0);
      return;
    }
    const r = this.#find(addr);
    if (!r || addr + size > r.base + r.length || !(size === 1 || size === 2 || size === 4)) {
      this.unclaimedWrites++;
      return;
    }
    r.device.write(addr - r.base, size, value);
  }
}
