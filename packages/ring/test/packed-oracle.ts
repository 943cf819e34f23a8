// The packed layout's notification oracle for the shared property harness (property.test.ts),
// read from raw ring memory only. A packed ring publishes no index, so the oracle follows
// the ring itself: after every harness step it scans the descriptors made available (parsing
// each VIRTQ_DESC_F_NEXT list to learn its buffer id and length) and the used descriptors
// written (skipping each buffer's slots, or a VIRTIO_F_IN_ORDER batch's), keeping monotonic
// counts of slots made available and used. A step moves either by at most one ring, so the
// scans are unambiguous. Snapshots are those counts.
import type { GuestMemory } from '../src/memory/guest-memory.js';
import type { QueueConfig } from '../src/queue/types.js';

const AVAIL = 1 << 7;
const USED = 1 << 15;
const NEXT = 1;

interface RingState {
  /** Slots made available / used since the start (monotonic). */
  avail: number;
  used: number;
  /** Buffers made available and not yet used, in ring order: buffer id and slots. */
  lists: { id: number; slots: number }[];
}

const states = new WeakMap<GuestMemory, RingState>();

/** Wrap counter of monotonic position `pos`: 1 on the first lap, then alternating. */
const wrapOf = (pos: number, size: number) => (Math.floor(pos / size) % 2 === 0 ? 1 : 0);
const flagsAt = (mem: GuestMemory, cfg: QueueConfig, pos: number) => mem.readU16(cfg.descTable + 16 * (pos % cfg.size) + 14);

function observe(mem: GuestMemory, cfg: QueueConfig): RingState {
  let s = states.get(mem);
  if (s === undefined) {
    s = { avail: 0, used: 0, lists: [] };
    states.set(mem, s);
  }
  const size = cfg.size;
  // New available lists: AVAIL matches the lap's wrap counter, USED does not.
  for (;;) {
    const start = s.avail;
    if (start - s.used >= size) break;
    const avail = (p: number) => (flagsAt(mem, cfg, p) & (AVAIL | USED)) === (wrapOf(p, size) ? AVAIL : USED);
    if (!avail(start)) break;
    let p = start;
    while (flagsAt(mem, cfg, p) & NEXT) p++;
    const id = mem.readU16(cfg.descTable + 16 * (p % size) + 12);
    s.lists.push({ id, slots: p - start + 1 });
    s.avail = p + 1;
  }
  // New used descriptors: AVAIL and USED both match the lap's wrap counter.
  while (s.used < s.avail) {
    const p = s.used;
    const w = wrapOf(p, size) ? AVAIL | USED : 0;
    if ((flagsAt(mem, cfg, p) & (AVAIL | USED)) !== w) break;
    const id = mem.readU16(cfg.descTable + 16 * (p % size) + 12);
    if (cfg.features.inOrder) {
      // One used descriptor for the batch from here up to the buffer with this id.
      for (;;) {
        const l = s.lists.shift()!;
        s.used += l.slots;
        if (l.id === id) break;
      }
    } else {
      const k = s.lists.findIndex((l) => l.id === id);
      s.used += s.lists[k].slots;
      s.lists.splice(k, 1);
    }
  }
  return s;
}

/**
 * Whether an event suppression structure at `area` asks for an event after the slots
 * [now - count, now) were made available or used (spec 2.8.10, 2.8.14): DISABLE never; DESC
 * (with VIRTIO_F_EVENT_IDX) when the most recent position at or before now - 1 that carries
 * desc_event_off and desc_event_wrap is one of those slots; otherwise whenever count > 0.
 */
function eventAsked(mem: GuestMemory, cfg: QueueConfig, area: number, now: number, count: number): boolean {
  if (count === 0) return false;
  const flags = mem.readU16(area + 2) & 3;
  if (flags === 1) return false;
  if (flags !== 2 || !cfg.features.eventIdx) return true;
  const desc = mem.readU16(area);
  const lap = 2 * cfg.size;
  // Positions repeat every two laps (the wrap counter is one bit).
  const event = (desc & 0x7fff) + (desc >> 15 ? 0 : cfg.size);
  const back = (((now - 1 - event) % lap) + lap) % lap;
  return count >= lap || back < count;
}

export const packedOracle = {
  name: 'packed' as const,
  observe(mem: GuestMemory, cfg: QueueConfig): void {
    observe(mem, cfg);
  },
  availSnapshot: (mem: GuestMemory, cfg: QueueConfig) => observe(mem, cfg).avail,
  usedSnapshot: (mem: GuestMemory, cfg: QueueConfig) => observe(mem, cfg).used,
  driverMustNotify(mem: GuestMemory, cfg: QueueConfig, before: number): boolean {
    const now = observe(mem, cfg).avail;
    return eventAsked(mem, cfg, cfg.deviceArea, now, now - before);
  },
  deviceMustNotify(mem: GuestMemory, cfg: QueueConfig, before: number): boolean {
    const now = observe(mem, cfg).used;
    return eventAsked(mem, cfg, cfg.driverArea, now, now - before);
  },
};
