import {
  EVENT_DESC_WORD,
  EVENT_FLAGS_WORD,
  RING_EVENT_FLAGS_DESC,
  RING_EVENT_FLAGS_DISABLE,
  RING_EVENT_FLAGS_ENABLE,
  RING_EVENT_FLAGS_MASK,
  offWrap,
} from './layout.js';
import { loadEventWord, storeEventWord } from './ring-views.js';

/**
 * Driver and Device Event Suppression (spec 2.8.10, 2.8.12): the side that wants events
 * writes its structure; the side that sends them reads the other one after a barrier.
 */

/** Asks for events: for the descriptor at (index, wrap) with VIRTIO_F_EVENT_IDX, else for all. */
export function enableEvents(ev: Uint16Array, eventIdx: boolean, index: number, wrap: number): void {
  if (eventIdx) {
    storeEventWord(ev, EVENT_DESC_WORD, offWrap(index, wrap));
    storeEventWord(ev, EVENT_FLAGS_WORD, RING_EVENT_FLAGS_DESC);
  } else {
    storeEventWord(ev, EVENT_FLAGS_WORD, RING_EVENT_FLAGS_ENABLE);
  }
}

/** Asks for no events (RING_EVENT_FLAGS_DISABLE). */
export function disableEvents(ev: Uint16Array): void {
  storeEventWord(ev, EVENT_FLAGS_WORD, RING_EVENT_FLAGS_DISABLE);
}

/** Moves a descriptor-specific event to (index, wrap), keeping its flags. */
export function moveEvent(ev: Uint16Array, index: number, wrap: number): void {
  storeEventWord(ev, EVENT_DESC_WORD, offWrap(index, wrap));
}

/**
 * Whether the other side asked for an event, given that `count` ring slots starting at
 * (index, wrap) were made available (driver) or used (device) since the last decision.
 * RING_EVENT_FLAGS_DISABLE: never. RING_EVENT_FLAGS_DESC with VIRTIO_F_EVENT_IDX: when the
 * slots cover the descriptor named by desc_event_off/desc_event_wrap. Otherwise (ENABLE, DESC
 * without EVENT_IDX, the reserved value 3): whenever `count` > 0, erring towards notifying.
 */
export function eventRequested(ev: Uint16Array, eventIdx: boolean, size: number, index: number, wrap: number, count: number): boolean {
  if (count === 0) return false;
  const flags = loadEventWord(ev, EVENT_FLAGS_WORD) & RING_EVENT_FLAGS_MASK;
  if (flags === RING_EVENT_FLAGS_DISABLE) return false;
  if (flags !== RING_EVENT_FLAGS_DESC || !eventIdx) return true;
  return coversEvent(loadEventWord(ev, EVENT_DESC_WORD), size, index, wrap, count);
}

/**
 * Whether `count` slots from (index, wrap) cover the descriptor of event word `word`. Ring
 * positions are counted modulo 2 * size (index plus size when the wrap counter is 0), so
 * 2 * size slots or more cover every descriptor; an offset beyond the ring counts as covered
 * too (a spare notification is harmless, a missing one hangs the other side).
 */
export function coversEvent(word: number, size: number, index: number, wrap: number, count: number): boolean {
  const off = word & 0x7fff;
  const span = 2 * size;
  if (off >= size) return true;
  const event = off + (word >>> 15 ? 0 : size);
  const start = index + (wrap ? 0 : size);
  return (event - start + span) % span < count;
}
