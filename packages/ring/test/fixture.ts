// A raw split ring in guest memory, written byte by byte the way an (adversarial) driver
// would, with the device queue under test attached to it.
import { FlatGuestMemory, SplitDeviceQueue, type GuestMemory, type QueueConfig, type RingFeatures } from '../src/index.js';

export const DESC = 0x1000;
export const AVAIL = 0x20000;
export const USED = 0x30000;
export const DATA = 0x40000;
export const MEM_SIZE = 0x100000;

export const NO_FEATURES: RingFeatures = { indirectDesc: false, eventIdx: false, inOrder: false };
export const ALL_FEATURES: RingFeatures = { indirectDesc: true, eventIdx: true, inOrder: false };

export class RawSplitRing {
  readonly mem = new FlatGuestMemory(new SharedArrayBuffer(MEM_SIZE));
  readonly config: QueueConfig;
  readonly dev: SplitDeviceQueue;
  availIdx = 0;

  constructor(
    readonly size = 8,
    features: RingFeatures = ALL_FEATURES,
  ) {
    this.config = { size, descTable: DESC, driverArea: AVAIL, deviceArea: USED, packed: false, features };
    this.dev = new SplitDeviceQueue(this.mem, this.config);
  }

  /** Writes descriptor `i` of the descriptor table (or of a table at `table`). */
  desc(i: number, addr: number, len: number, flags = 0, next = 0, table = DESC): void {
    writeDesc(this.mem, table + 16 * i, addr, len, flags, next);
  }

  /** Puts heads in the available ring and publishes them. */
  offer(...heads: number[]): void {
    for (const h of heads) {
      this.mem.writeU16(AVAIL + 4 + 2 * (this.availIdx % this.size), h);
      this.availIdx = (this.availIdx + 1) & 0xffff;
    }
    this.mem.writeU16(AVAIL + 2, this.availIdx);
  }

  setAvailIdx(v: number): void {
    this.availIdx = v & 0xffff;
    this.mem.writeU16(AVAIL + 2, this.availIdx);
  }
  setAvailFlags(v: number): void {
    this.mem.writeU16(AVAIL, v);
  }
  setUsedEvent(v: number): void {
    this.mem.writeU16(AVAIL + 4 + 2 * this.size, v);
  }
  usedFlags(): number {
    return this.mem.readU16(USED);
  }
  usedIdx(): number {
    return this.mem.readU16(USED + 2);
  }
  availEvent(): number {
    return this.mem.readU16(USED + 4 + 8 * this.size);
  }
  usedElem(i: number): { id: number; len: number } {
    return { id: this.mem.readU32(USED + 4 + 8 * (i % this.size)), len: this.mem.readU32(USED + 8 + 8 * (i % this.size)) };
  }
}

export function writeDesc(mem: GuestMemory, at: number, addr: number, len: number, flags: number, next: number): void {
  mem.writeU64(at, addr);
  mem.writeU32(at + 8, len);
  mem.writeU16(at + 12, flags);
  mem.writeU16(at + 14, next);
}

/** vring_need_event, written out again from the spec for the tests' oracle. */
export function specNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
