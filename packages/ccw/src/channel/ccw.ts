/**
 * The format-1 channel-command word (CCW), as a channel program holds it in guest memory:
 * 8 bytes, big-endian: command code (u8), flags (u8), count (u16, bytes), data address
 * (u32, a 31-bit guest-physical address). Spec 4.3 relies on [S390 PoP] for the format.
 */
import type { GuestMemory } from '@virtio/ring';

/** Size in bytes of a format-1 CCW; CCWs are doubleword aligned. */
export const CCW_SIZE = 8;

/** One channel-command word. */
export interface Ccw {
  /** Command code (CCW_CMD_*). */
  readonly cmd: number;
  /** CCW_FLAG_* bits. */
  readonly flags: number;
  /** Byte count of the data area at `cda` (0-65535). */
  readonly count: number;
  /** Guest-physical data address; format-1 CCWs address 31 bits. */
  readonly cda: number;
}

/** The highest data address (exclusive) a format-1 CCW can hold: 2^31. */
export const CCW_ADDRESS_LIMIT = 0x8000_0000;

/**
 * Reads the CCW at `addr`. The caller checks that `[addr, addr + 8)` is in memory.
 * @throws GuestMemoryError when it is not
 */
export function readCcw(memory: GuestMemory, addr: number): Ccw {
  const w0 = memory.readU32(addr);
  const cda = memory.readU32(addr + 4);
  // GuestMemory reads little-endian; the CCW is big-endian.
  return {
    cmd: w0 & 0xff,
    flags: (w0 >>> 8) & 0xff,
    count: ((w0 >>> 16) & 0xff) << 8 | (w0 >>> 24),
    cda: bswap32(cda),
  };
}

/**
 * Writes `ccw` at `addr`, big-endian.
 * @throws GuestMemoryError when `[addr, addr + 8)` is outside guest memory
 */
export function writeCcw(memory: GuestMemory, addr: number, ccw: Ccw): void {
  memory.writeU8(addr, ccw.cmd);
  memory.writeU8(addr + 1, ccw.flags);
  memory.writeU8(addr + 2, (ccw.count >>> 8) & 0xff);
  memory.writeU8(addr + 3, ccw.count & 0xff);
  memory.writeU32(addr + 4, bswap32(ccw.cda));
}

function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
