// Test helper: a guest that writes raw channel programs into its memory, so device-side
// tests can send exactly the (mal)formed CCWs and data they want.
import { FlatGuestMemory } from '@virtio/ring';
import { CCW_SIZE, writeCcw, type Ccw } from '../src/index.js';

export class RawGuest {
  readonly memory: FlatGuestMemory;
  #next = 0x1000;

  constructor(size = 1 << 20) {
    this.memory = new FlatGuestMemory(new Uint8Array(size));
  }

  /** `len` zeroed bytes aligned to `align`. */
  alloc(len: number, align = 8): number {
    const addr = Math.ceil(this.#next / align) * align;
    this.#next = addr + Math.max(len, 1);
    this.memory.write(addr, new Uint8Array(len));
    return addr;
  }

  /** A data area holding `bytes`. */
  data(bytes: readonly number[] | Uint8Array): number {
    const addr = this.alloc(bytes.length);
    this.memory.write(addr, Uint8Array.from(bytes));
    return addr;
  }

  /** Writes `ccws` contiguously; returns the program's address. */
  program(...ccws: Ccw[]): number {
    const addr = this.alloc(ccws.length * CCW_SIZE, 8);
    ccws.forEach((ccw, i) => writeCcw(this.memory, addr + i * CCW_SIZE, ccw));
    return addr;
  }

  bytes(addr: number, len: number): number[] {
    const out = new Uint8Array(len);
    this.memory.read(addr, out);
    return [...out];
  }
}

/** Big-endian bytes of a u16 / u32 / u64. */
export const be16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
export const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
export const be64 = (v: number | bigint): number[] => {
  const b = BigInt(v);
  return [...be32(Number((b >> 32n) & 0xffff_ffffn)), ...be32(Number(b & 0xffff_ffffn))];
};
export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
