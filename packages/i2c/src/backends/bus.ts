import type { I2cBackend, I2cMessage } from './backend.js';

/**
 * A device on a simulated I2C bus, seen from the bus master (the guest). Each method returns
 * whether the target acknowledged; a false (NACK) or a throw ends the transfer there.
 */
export interface I2cTarget {
  /** The master writes `data` (possibly empty: an address-only probe or SMBus Quick write). */
  write(data: Uint8Array): boolean;
  /** The master reads `data.length` bytes: fill `data`. */
  read(data: Uint8Array): boolean;
  /** STOP: the transfer that addressed this target ended. */
  stop?(): void;
}

const key = (address: number, tenBit: boolean) => (tenBit ? 0x10000 | address : address);

/**
 * An in-memory I2C bus: targets attached at 7-bit or 10-bit addresses, transfers executed
 * synchronously, a message to an address nobody answers is not acknowledged.
 */
export class SimulatedI2cBus implements I2cBackend {
  readonly #targets = new Map<number, I2cTarget>();

  /**
   * Attaches `target` at `address` (7-bit 0..0x7f, or 10-bit 0..0x3ff with `tenBit`).
   * @throws RangeError for an address out of range or already taken
   */
  attach(address: number, target: I2cTarget, opts: { tenBit?: boolean } = {}): this {
    const tenBit = opts.tenBit ?? false;
    if (!Number.isInteger(address) || address < 0 || address > (tenBit ? 0x3ff : 0x7f)) throw new RangeError(`i2c: address ${address} out of range`);
    const k = key(address, tenBit);
    if (this.#targets.has(k)) throw new RangeError(`i2c: address 0x${address.toString(16)} is taken`);
    this.#targets.set(k, target);
    return this;
  }

  /** Removes the target at `address`; returns whether there was one. */
  detach(address: number, opts: { tenBit?: boolean } = {}): boolean {
    return this.#targets.delete(key(address, opts.tenBit ?? false));
  }

  transfer(messages: readonly I2cMessage[]): number {
    const addressed = new Set<I2cTarget>();
    let done = 0;
    try {
      for (const m of messages) {
        const target = this.#targets.get(key(m.address, m.tenBit));
        if (!target) break;
        addressed.add(target);
        if (!(m.read ? target.read(m.buf) : target.write(m.buf))) break;
        done++;
      }
    } finally {
      for (const t of addressed) t.stop?.();
    }
    return done;
  }
}
