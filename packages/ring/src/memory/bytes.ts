/** Host memory backing guest memory: a whole (Shared)ArrayBuffer or a Uint8Array window into one. */
export type GuestBytes = ArrayBuffer | SharedArrayBuffer | Uint8Array;

/** The largest guest-physical address + 1 a JS number represents exactly. */
export const MAX_GUEST_ADDRESS = 2 ** 53;

export function toUint8Array(bytes: GuestBytes): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Validates a region's base address and size at construction. @throws RangeError */
export function checkRegion(base: number, size: number): void {
  if (!Number.isSafeInteger(base) || base < 0 || base + size > MAX_GUEST_ADDRESS) {
    throw new RangeError(`guest memory region base 0x${base.toString(16)} (+${size}) is not a valid guest-physical address`);
  }
}

/** Value to write as a u64: a BigInt (wrapped to 64 bits) or a non-negative safe integer. @throws RangeError */
export function toU64(value: bigint | number): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`u64 value ${value} is not a non-negative safe integer`);
  return BigInt(value);
}
