import { GuestMemoryError, VirtqueueError } from '../errors.js';
import { le16 } from '../memory/endian.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import {
  DESC_ADDR,
  DESC_ID,
  DESC_LEN,
  DESC_RING_ALIGN,
  DESC_WORDS,
  EVENT_SUPPRESS_ALIGN,
  EVENT_SUPPRESS_SIZE,
  FLAGS_WORD,
  PACKED_MAX_QUEUE_SIZE,
  descRingBytes,
} from './layout.js';

const TWO_32 = 2 ** 32;
/** u16 word offsets of the fields inside one descriptor. */
const ADDR_WORD = DESC_ADDR / 2;
const LEN_WORD = DESC_LEN / 2;
const ID_WORD = DESC_ID / 2;

/**
 * The three parts of a packed virtqueue resolved to typed-array views once, at activation
 * (spec 2.8.10). Fields shared with the other side (descriptor flags, event suppression
 * words) go through Atomics on the Uint16Array views, so a flags load has acquire and a
 * flags store has release ordering against a guest CPU running concurrently; descriptor
 * addr/len/id are plain reads and writes of the same u16 view (the ring only needs an even
 * host offset), after (reads) or before (writes) the flags.
 */
export class PackedRingViews {
  /** Queue size: number of descriptors in the descriptor ring. */
  readonly size: number;
  /** The descriptor ring as u16 words: descriptor i's addr at 8i..8i+3, len 8i+4..5, id 8i+6, flags 8i+7. */
  readonly ring: Uint16Array;
  /** Driver Event Suppression (driver area): written by the driver, read by the device. */
  readonly driverEvent: Uint16Array;
  /** Device Event Suppression (device area): written by the device, read by the driver. */
  readonly deviceEvent: Uint16Array;

  /**
   * @param descTable guest-physical address of the descriptor ring (16-byte aligned)
   * @param driverArea guest-physical address of the driver event suppression (4-byte aligned)
   * @param deviceArea guest-physical address of the device event suppression (4-byte aligned)
   * @throws VirtqueueError 'bad-queue-config' for a size outside 1..32768 or a misaligned part,
   *   'address-out-of-range' when a part is not inside one region of guest memory.
   */
  constructor(memory: GuestMemory, size: number, descTable: number, driverArea: number, deviceArea: number) {
    if (!Number.isInteger(size) || size < 1 || size > PACKED_MAX_QUEUE_SIZE) {
      throw new VirtqueueError('bad-queue-config', `packed queue size ${size} is not in 1..${PACKED_MAX_QUEUE_SIZE}`);
    }
    checkAligned('descriptor ring', descTable, DESC_RING_ALIGN);
    checkAligned('driver event suppression', driverArea, EVENT_SUPPRESS_ALIGN);
    checkAligned('device event suppression', deviceArea, EVENT_SUPPRESS_ALIGN);
    this.size = size;
    const ring = resolve(memory, 'descriptor ring', descTable, descRingBytes(size));
    this.ring = new Uint16Array(ring.buffer, ring.byteOffset, ring.byteLength / 2);
    const drv = resolve(memory, 'driver event suppression', driverArea, EVENT_SUPPRESS_SIZE);
    this.driverEvent = new Uint16Array(drv.buffer, drv.byteOffset, 2);
    const dev = resolve(memory, 'device event suppression', deviceArea, EVENT_SUPPRESS_SIZE);
    this.deviceEvent = new Uint16Array(dev.buffer, dev.byteOffset, 2);
  }

  /** Flags of descriptor `i`, loaded atomically (acquire). */
  loadFlags(i: number): number {
    return le16(Atomics.load(this.ring, i * DESC_WORDS + FLAGS_WORD));
  }

  /** Stores the flags of descriptor `i` atomically (release): call after writing addr/len/id. */
  storeFlags(i: number, flags: number): void {
    Atomics.store(this.ring, i * DESC_WORDS + FLAGS_WORD, le16(flags));
  }

  /**
   * Writes the flags of descriptor `i` with a plain store: only for a descriptor the other side
   * cannot look at before a later {@link storeFlags} (which orders this write before it).
   */
  writeFlags(i: number, flags: number): void {
    this.ring[i * DESC_WORDS + FLAGS_WORD] = le16(flags);
  }

  /** Element Address of descriptor `i`; 2^53 or more comes back inexact (no guest memory is that high). */
  addr(i: number): number {
    const w = i * DESC_WORDS + ADDR_WORD;
    return this.#u32(w + 2) * TWO_32 + this.#u32(w);
  }

  /** Element Length of descriptor `i`, in bytes. */
  len(i: number): number {
    return this.#u32(i * DESC_WORDS + LEN_WORD);
  }

  /** Buffer ID of descriptor `i`. */
  id(i: number): number {
    return le16(this.ring[i * DESC_WORDS + ID_WORD]);
  }

  /** Writes addr, len and id of descriptor `i` (not its flags). `addr` is a safe integer. */
  writeFields(i: number, addr: number, len: number, id: number): void {
    const w = i * DESC_WORDS;
    const lo = addr >>> 0;
    this.#setU32(w + ADDR_WORD, lo);
    this.#setU32(w + ADDR_WORD + 2, (addr - lo) / TWO_32);
    this.#setU32(w + LEN_WORD, len);
    this.ring[w + ID_WORD] = le16(id);
  }

  /** Writes the len and id of a used descriptor `i` (not its flags). */
  writeUsedFields(i: number, len: number, id: number): void {
    const w = i * DESC_WORDS;
    this.#setU32(w + LEN_WORD, len);
    this.ring[w + ID_WORD] = le16(id);
  }

  /** The little-endian u32 in ring words `w`, `w + 1`. */
  #u32(w: number): number {
    return (le16(this.ring[w]) | (le16(this.ring[w + 1]) << 16)) >>> 0;
  }

  #setU32(w: number, v: number): void {
    this.ring[w] = le16(v & 0xffff);
    this.ring[w + 1] = le16(v >>> 16);
  }
}

/** Loads word `w` of an event suppression structure atomically. */
export function loadEventWord(ev: Uint16Array, w: number): number {
  return le16(Atomics.load(ev, w));
}

/** Stores word `w` of an event suppression structure atomically. */
export function storeEventWord(ev: Uint16Array, w: number, value: number): void {
  Atomics.store(ev, w, le16(value));
}

function checkAligned(part: string, addr: number, align: number): void {
  if (!Number.isSafeInteger(addr) || addr < 0 || addr % align !== 0) {
    throw new VirtqueueError('bad-queue-config', `${part} address ${addr} is not a multiple of ${align}`);
  }
}

/** A view of one ring part; u16 views need an even byte offset into the host buffer. */
function resolve(memory: GuestMemory, part: string, addr: number, len: number): Uint8Array {
  let v: Uint8Array;
  try {
    v = memory.view(addr, len);
  } catch (e) {
    if (e instanceof GuestMemoryError) {
      throw new VirtqueueError('address-out-of-range', `${part} [0x${addr.toString(16)}, +${len}) is not inside one region of guest memory`);
    }
    throw e;
  }
  if (v.byteOffset % 2 !== 0) {
    throw new VirtqueueError('bad-queue-config', `${part} lies at an odd offset of its host buffer`);
  }
  return v;
}
