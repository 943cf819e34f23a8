/**
 * Guest-physical memory as the device side sees it.
 *
 * Addresses are guest-physical addresses held in JS numbers (exact up to 2^53); lengths are
 * in bytes. All multi-byte accesses are little-endian, as every VIRTIO 1.x structure is
 * (spec 1.4 "Structure Specifications"). Every access is bounds-checked: an access that is
 * not wholly inside guest memory throws {@link GuestMemoryError} (this includes addr + len
 * overflowing past 2^53 and negative or non-integer inputs).
 */
export interface GuestMemory {
  /** Reads a u8 at `addr`. @throws GuestMemoryError */
  readU8(addr: number): number;
  /** Reads a little-endian u16 at `addr`. @throws GuestMemoryError */
  readU16(addr: number): number;
  /** Reads a little-endian u32 at `addr`. @throws GuestMemoryError */
  readU32(addr: number): number;
  /** Reads a little-endian u64 at `addr` as a BigInt. @throws GuestMemoryError */
  readU64(addr: number): bigint;
  /**
   * Reads a little-endian u64 that holds a guest-physical address or a length, as a number.
   * @throws GuestMemoryError when the value is 2^53 or more (no guest memory is that high).
   */
  readU64Number(addr: number): number;
  /** Writes a u8. @throws GuestMemoryError */
  writeU8(addr: number, value: number): void;
  /** Writes a little-endian u16. @throws GuestMemoryError */
  writeU16(addr: number, value: number): void;
  /** Writes a little-endian u32. @throws GuestMemoryError */
  writeU32(addr: number, value: number): void;
  /** Writes a little-endian u64. @throws GuestMemoryError */
  writeU64(addr: number, value: bigint | number): void;
  /** Copies `dest.byteLength` bytes from guest memory at `addr` into `dest`. @throws GuestMemoryError */
  read(addr: number, dest: Uint8Array): void;
  /** Copies `src` into guest memory at `addr`. @throws GuestMemoryError */
  write(addr: number, src: Uint8Array): void;
  /**
   * A zero-copy view of `[addr, addr + len)`. The range must lie inside one region.
   * @throws GuestMemoryError when the range is outside memory or crosses a region boundary.
   */
  view(addr: number, len: number): Uint8Array;
  /**
   * Zero-copy views covering `[addr, addr + len)`, one per region the range touches, in order.
   * @throws GuestMemoryError when any byte of the range is outside memory (gaps included).
   */
  views(addr: number, len: number): Uint8Array[];
  /** True when `[addr, addr + len)` lies wholly inside guest memory (never throws). */
  contains(addr: number, len: number): boolean;
}
