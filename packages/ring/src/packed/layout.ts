/**
 * The packed virtqueue's in-memory layout (spec 2.8 "Packed Virtqueues"): the descriptor
 * (struct pvirtq_desc), its flag bits, the event suppression structure
 * (struct pvirtq_event_suppress) and the alignment/size table of 2.8.10.
 */

/** Largest packed queue size (2^15 entries, spec 2.8). Any size 1..32768 is allowed. */
export const PACKED_MAX_QUEUE_SIZE = 32768;

/** Bytes per struct pvirtq_desc: le64 addr, le32 len, le16 id, le16 flags. */
export const DESC_SIZE = 16;
/** Byte offsets of the fields inside a struct pvirtq_desc. */
export const DESC_ADDR = 0;
export const DESC_LEN = 8;
export const DESC_ID = 12;
export const DESC_FLAGS = 14;
/** Index of a descriptor's flags word in a Uint16Array over the descriptor ring: 8 * i + 7. */
export const FLAGS_WORD = DESC_FLAGS / 2;
/** u16 words per descriptor. */
export const DESC_WORDS = DESC_SIZE / 2;

/** This marks a buffer as continuing (VIRTQ_DESC_F_NEXT). */
export const VIRTQ_DESC_F_NEXT = 1;
/** Device write-only buffer (otherwise device read-only); in a used descriptor: data was written. */
export const VIRTQ_DESC_F_WRITE = 2;
/** The element contains a table of descriptors (VIRTQ_DESC_F_INDIRECT). */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available flag; matches the Driver Ring Wrap Counter in an available descriptor. */
export const VIRTQ_DESC_F_AVAIL = 1 << 7;
/** Used flag; differs from AVAIL in an available descriptor, equals it in a used one. */
export const VIRTQ_DESC_F_USED = 1 << 15;

/** Bytes of struct pvirtq_event_suppress: le16 desc (off:15, wrap:1), le16 flags. */
export const EVENT_SUPPRESS_SIZE = 4;
/** u16 word indices inside the event suppression structure. */
export const EVENT_DESC_WORD = 0;
export const EVENT_FLAGS_WORD = 1;
/** Enable events. */
export const RING_EVENT_FLAGS_ENABLE = 0x0;
/** Disable events. */
export const RING_EVENT_FLAGS_DISABLE = 0x1;
/** Enable events for one descriptor (desc_event_off / desc_event_wrap); needs VIRTIO_F_EVENT_IDX. */
export const RING_EVENT_FLAGS_DESC = 0x2;
/** desc_event_flags occupies the low two bits of the flags word. */
export const RING_EVENT_FLAGS_MASK = 0x3;

/** Minimum alignment in bytes of the descriptor ring (spec 2.8.10 table). */
export const DESC_RING_ALIGN = 16;
/** Minimum alignment in bytes of the driver and device event suppression structures. */
export const EVENT_SUPPRESS_ALIGN = 4;

/** Size in bytes of the descriptor ring of a queue of `size` entries. */
export function descRingBytes(size: number): number {
  return DESC_SIZE * size;
}

/** Flags bits AVAIL and USED that mark a descriptor available under wrap counter `wrap` (0 or 1). */
export function availBits(wrap: number): number {
  return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/** Flags bits AVAIL and USED that mark a descriptor used under wrap counter `wrap` (0 or 1). */
export function usedBits(wrap: number): number {
  return wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
}

/** True when `flags` marks a descriptor available for a side whose wrap counter is `wrap`. */
export function isAvail(flags: number, wrap: number): boolean {
  return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) === availBits(wrap);
}

/** True when `flags` marks a descriptor used for a side whose wrap counter is `wrap`. */
export function isUsed(flags: number, wrap: number): boolean {
  return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) === usedBits(wrap);
}

/** The desc word of an event suppression structure: offset in bits 0..14, wrap counter in bit 15. */
export function offWrap(index: number, wrap: number): number {
  return index | (wrap << 15);
}
