/**
 * The addr field of struct virtio_i2c_out_hdr (spec 5.16.6.1): a 7-bit address in bits 7..1,
 * or a 10-bit address as 11110 A9 A8 0 in bits 7..0 and A7..A0 in bits 15..8.
 */

/** A target address on the bus. */
export interface I2cAddress {
  /** 0..0x7f for 7-bit addresses, 0..0x3ff for 10-bit addresses. */
  readonly address: number;
  readonly tenBit: boolean;
}

/** @throws RangeError for an address out of range for its mode */
export function encodeI2cAddress(address: number, tenBit = false): number {
  if (!Number.isInteger(address) || address < 0 || address > (tenBit ? 0x3ff : 0x7f)) {
    throw new RangeError(`i2c: ${tenBit ? '10' : '7'}-bit address ${address} out of range`);
  }
  return tenBit ? ((address & 0xff) << 8) | 0xf0 | ((address >> 8) << 1) : address << 1;
}

/**
 * Decodes a guest-written addr field. A low byte 11110xx0 is the 10-bit form (7-bit addresses
 * 0x78..0x7b are reserved for it by the I2C specification).
 * @returns null for a value neither form allows (bit 0 set, or high bits set in the 7-bit form)
 */
export function decodeI2cAddress(addr: number): I2cAddress | null {
  if ((addr & 1) !== 0 || addr < 0 || addr > 0xffff) return null;
  if ((addr & 0xf8) === 0xf0) return { address: ((addr & 0x06) << 7) | (addr >> 8), tenBit: true };
  if (addr >> 8 !== 0) return null;
  return { address: addr >> 1, tenBit: false };
}
