import { VirtqueueError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DriverQueue, GuestAllocator, QueueConfig, RingFeatures, Segment, UsedBuffer } from '../queue/types.js';
import { tableWords, writeTableEntry } from '../queue/indirect-table.js';
import { disableEvents, enableEvents, eventRequested, moveEvent } from './event-suppression.js';
import {
  DESC_ADDR,
  DESC_FLAGS,
  DESC_ID,
  DESC_LEN,
  DESC_RING_ALIGN,
  DESC_SIZE,
  EVENT_SUPPRESS_ALIGN,
  EVENT_SUPPRESS_SIZE,
  PACKED_MAX_QUEUE_SIZE,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  availBits,
  descRingBytes,
  isUsed,
  offWrap,
} from './layout.js';
import { PackedRingViews } from './ring-views.js';

const TWO_32 = 2 ** 32;

/** Options of {@link PackedDriverQueue}. */
export interface PackedDriverOptions {
  /** Queue size, 1..32768 (need not be a power of two). */
  readonly size: number;
  readonly packed: true;
  /** The negotiated ring features. */
  readonly features: RingFeatures;
  /**
   * Most elements the device allows in one buffer (a transport- or device-specific limit,
   * e.g. virtio-blk seg_max); default and ceiling: the queue size.
   */
  readonly maxSegments?: number;
}

/**
 * The driver side of a packed virtqueue (spec 2.8): lays out a zeroed descriptor ring (16-byte
 * aligned) and both event suppression structures (4-byte aligned) with `allocator`, places
 * buffers as VIRTQ_DESC_F_NEXT lists or indirect tables, and reaps used descriptors, skipping
 * the slots of each list (and of each VIRTIO_F_IN_ORDER batch).
 *
 * add() writes each list with its first descriptor's flags held back; kick() then makes the
 * pending lists available (each first descriptor last, with a release store) and reads the
 * Device Event Suppression structure to decide on a notification.
 *
 * Errors: reap() throws {@link VirtqueueError} 'bad-used-id' when the device writes a used
 * descriptor whose buffer id is not in flight; add() throws for a buffer the device could
 * never accept (see add).
 */
export class PackedDriverQueue<T = unknown> implements DriverQueue<T> {
  readonly config: QueueConfig;
  readonly #views: PackedRingViews;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #features: RingFeatures;
  readonly #size: number;
  readonly #maxSegments: number;
  /** Free buffer ids (a stack). */
  readonly #freeIds: Uint16Array;
  #freeCount: number;
  /** Per buffer id: caller token, ring slots taken (0: free), writable bytes. */
  readonly #tokens: (T | undefined)[];
  readonly #slots: Uint16Array;
  readonly #inLength: Float64Array;
  /** Per buffer id: its indirect table (kept for reuse) and the table's capacity in descriptors (0: none). */
  readonly #table: Float64Array;
  readonly #tableCapacity: Uint32Array;
  /** Per id: its table's host words when it has a single aligned view (see tableWords). */
  readonly #tableWords: (Uint32Array | null)[];
  #numFree: number;
  /** Next descriptor to fill, and the Driver Ring Wrap Counter. */
  #availIndex = 0;
  #availWrap = 1;
  /** Next descriptor to poll for a used descriptor, and the wrap counter it is expected with. */
  #usedIndex = 0;
  #usedWrap = 1;
  /** First descriptors written but not yet made available: ring index and flags. */
  readonly #pendingIndex: Uint16Array;
  readonly #pendingFlags: Uint16Array;
  #pendingCount = 0;
  /** Slots added since the last kick, starting at (#kickIndex, #kickWrap). */
  #kickIndex = 0;
  #kickWrap = 1;
  #kickCount = 0;
  /** VIRTIO_F_IN_ORDER: buffer ids in ring order, and the batch a used descriptor closed. */
  readonly #order: Uint16Array;
  #orderHead = 0;
  #batchEnd = -1;
  #batchLen = 0;
  #interrupts = true;

  /**
   * @throws VirtqueueError 'bad-queue-config' for a size outside 1..32768 or when the allocator
   *   ignored the alignment; whatever `allocator.alloc` throws when out of memory
   */
  constructor(memory: GuestMemory, allocator: GuestAllocator, opts: PackedDriverOptions) {
    const size = opts.size;
    if (!Number.isInteger(size) || size < 1 || size > PACKED_MAX_QUEUE_SIZE) {
      throw new VirtqueueError('bad-queue-config', `packed queue size ${size} is not in 1..${PACKED_MAX_QUEUE_SIZE}`);
    }
    const descTable = allocator.alloc(descRingBytes(size), DESC_RING_ALIGN);
    const driverArea = allocator.alloc(EVENT_SUPPRESS_SIZE, EVENT_SUPPRESS_ALIGN);
    const deviceArea = allocator.alloc(EVENT_SUPPRESS_SIZE, EVENT_SUPPRESS_ALIGN);
    this.config = { size, descTable, driverArea, deviceArea, packed: true, features: opts.features };
    this.#views = new PackedRingViews(memory, size, descTable, driverArea, deviceArea);
    // The descriptor ring is zero-initialized; zeroed event structures mean RING_EVENT_FLAGS_ENABLE.
    this.#views.ring.fill(0);
    this.#views.driverEvent.fill(0);
    this.#views.deviceEvent.fill(0);
    this.#memory = memory;
    this.#allocator = allocator;
    this.#features = opts.features;
    this.#size = size;
    this.#maxSegments = Math.min(opts.maxSegments ?? size, size);
    this.#freeIds = new Uint16Array(size);
    for (let k = 0; k < size; k++) this.#freeIds[k] = size - 1 - k;
    this.#freeCount = size;
    this.#tokens = new Array<T | undefined>(size);
    this.#slots = new Uint16Array(size);
    this.#inLength = new Float64Array(size);
    this.#table = new Float64Array(size);
    this.#tableCapacity = new Uint32Array(size);
    this.#tableWords = new Array<Uint32Array | null>(size).fill(null);
    this.#numFree = size;
    this.#pendingIndex = new Uint16Array(size);
    this.#pendingFlags = new Uint16Array(size);
    this.#order = new Uint16Array(size);
  }

  get numFree(): number {
    return this.#numFree;
  }

  /**
   * The next_off (bits 0..14) and next_wrap (bit 15) of an available buffer notification with
   * VIRTIO_F_NOTIFICATION_DATA: the next descriptor not yet made available to the device.
   */
  get notificationData(): number {
    return offWrap(this.#kickIndex, this.#kickWrap);
  }

  /**
   * Places a buffer: `out` device-readable elements, then `inSegs` device-writable ones, as an
   * indirect table when `opts.indirect` is true, or by default when VIRTIO_F_INDIRECT_DESC was
   * negotiated and the buffer has more than one element; otherwise as a VIRTQ_DESC_F_NEXT list.
   * @returns false, changing nothing, when the ring (or the allocator, for a table) has no room
   * @throws RangeError for no elements, more than maxSegments, an invalid address or length, or
   *   2^32 bytes or more; VirtqueueError 'indirect-not-negotiated' when asked for an indirect
   *   table without VIRTIO_F_INDIRECT_DESC
   */
  add(out: readonly Segment[], inSegs: readonly Segment[], token: T, opts?: { indirect?: boolean }): boolean {
    const n = out.length + inSegs.length;
    if (n === 0) throw new RangeError('a buffer needs at least one element');
    if (n > this.#maxSegments) throw new RangeError(`${n} elements exceed the ${this.#maxSegments} the device allows`);
    let bytes = 0;
    let inLength = 0;
    for (let k = 0; k < n; k++) {
      const s = k < out.length ? out[k] : inSegs[k - out.length];
      if (!Number.isSafeInteger(s.addr) || s.addr < 0 || !Number.isInteger(s.len) || s.len < 0 || s.len >= TWO_32) {
        throw new RangeError(`element ${k} (addr ${s.addr}, len ${s.len}) is not a guest-physical address and u32 length`);
      }
      bytes += s.len;
      if (k >= out.length) inLength += s.len;
    }
    if (bytes >= TWO_32) throw new RangeError(`buffer of ${bytes} bytes: a buffer must be shorter than 2^32 bytes`);
    const indirect = opts?.indirect ?? (this.#features.indirectDesc && n > 1);
    if (indirect && !this.#features.indirectDesc) {
      throw new VirtqueueError('indirect-not-negotiated', 'indirect buffer without VIRTIO_F_INDIRECT_DESC');
    }
    const slots = indirect ? 1 : n;
    if (slots > this.#numFree) return false;
    const id = this.#freeIds[this.#freeCount - 1];
    let table = -1;
    if (indirect) {
      table = this.#tableFor(id, n);
      if (table < 0) return false;
      this.#writeTable(id, table, out, inSegs);
    }
    const inFlight = this.#size - this.#freeCount;
    this.#freeCount--;
    const v = this.#views;
    const head = this.#availIndex;
    let headFlags = 0;
    let i = head;
    let wrap = this.#availWrap;
    for (let k = 0; k < slots; k++) {
      let flags = availBits(wrap);
      if (indirect) {
        v.writeFields(i, table, n * DESC_SIZE, id);
        flags |= VIRTQ_DESC_F_INDIRECT;
      } else {
        const s = k < out.length ? out[k] : inSegs[k - out.length];
        v.writeFields(i, s.addr, s.len, id);
        if (k >= out.length) flags |= VIRTQ_DESC_F_WRITE;
        if (k < n - 1) flags |= VIRTQ_DESC_F_NEXT;
      }
      if (k === 0) headFlags = flags;
      else v.storeFlags(i, flags);
      if (++i === this.#size) {
        i = 0;
        wrap ^= 1;
      }
    }
    this.#pendingIndex[this.#pendingCount] = head;
    this.#pendingFlags[this.#pendingCount] = headFlags;
    this.#pendingCount++;
    if (this.#features.inOrder) this.#order[(this.#orderHead + inFlight) % this.#size] = id;
    this.#availIndex = i;
    this.#availWrap = wrap;
    this.#numFree -= slots;
    this.#kickCount += slots;
    this.#tokens[id] = token;
    this.#slots[id] = slots;
    this.#inLength[id] = inLength;
    return true;
  }

  /**
   * Makes every added buffer available (first descriptors last to first, each a release store
   * after its list is complete), then reads the Device Event Suppression structure.
   * @returns whether to send an available buffer notification: never under
   *   RING_EVENT_FLAGS_DISABLE; with RING_EVENT_FLAGS_DESC (VIRTIO_F_EVENT_IDX) only when the new
   *   descriptors include the one the device named; otherwise when anything was added
   */
  kick(): boolean {
    const v = this.#views;
    for (let p = this.#pendingCount - 1; p >= 0; p--) v.storeFlags(this.#pendingIndex[p], this.#pendingFlags[p]);
    this.#pendingCount = 0;
    const notify = eventRequested(v.deviceEvent, this.#features.eventIdx, this.#size, this.#kickIndex, this.#kickWrap, this.#kickCount);
    this.#kickIndex = this.#availIndex;
    this.#kickWrap = this.#availWrap;
    this.#kickCount = 0;
    return notify;
  }

  /**
   * The next used buffer and the bytes the device wrote into it (0 unless the used descriptor
   * has VIRTQ_DESC_F_WRITE; clamped to the buffer's writable bytes), or null. Frees its ring
   * slots and buffer id (an indirect table stays with the buffer id, for reuse). Under
   * VIRTIO_F_IN_ORDER a used descriptor may close a batch: the earlier buffers of the batch
   * come back first, each with its whole writable length.
   * @throws VirtqueueError 'bad-used-id' when the used buffer id is not in flight
   */
  reap(): UsedBuffer<T> | null {
    if (this.#batchEnd >= 0) {
      const front = this.#order[this.#orderHead];
      return this.#complete(front, front === this.#batchEnd ? this.#batchLen : this.#inLength[front]);
    }
    const v = this.#views;
    const flags = v.loadFlags(this.#usedIndex);
    if (!isUsed(flags, this.#usedWrap)) return null;
    const id = v.id(this.#usedIndex);
    const len = flags & VIRTQ_DESC_F_WRITE ? v.len(this.#usedIndex) : 0;
    if (id >= this.#size || this.#slots[id] === 0) {
      throw new VirtqueueError('bad-used-id', `device used buffer id ${id}, which is not in flight`);
    }
    if (this.#features.inOrder) {
      const front = this.#order[this.#orderHead];
      if (id !== front) {
        this.#batchEnd = id;
        this.#batchLen = len;
        return this.#complete(front, this.#inLength[front]);
      }
    }
    return this.#complete(id, len);
  }

  /**
   * Asks for used buffer notifications: RING_EVENT_FLAGS_DESC at the next used descriptor with
   * VIRTIO_F_EVENT_IDX (kept current by reap), else RING_EVENT_FLAGS_ENABLE; then re-checks.
   * @returns true when a used buffer arrived meanwhile (reap again)
   */
  enableInterrupts(): boolean {
    this.#interrupts = true;
    enableEvents(this.#views.driverEvent, this.#features.eventIdx, this.#usedIndex, this.#usedWrap);
    return this.#batchEnd >= 0 || isUsed(this.#views.loadFlags(this.#usedIndex), this.#usedWrap);
  }

  /** Writes RING_EVENT_FLAGS_DISABLE into the Driver Event Suppression structure. */
  disableInterrupts(): void {
    this.#interrupts = false;
    disableEvents(this.#views.driverEvent);
  }

  /**
   * The indirect table of buffer id `id`, with room for `n` descriptors: the one kept from an
   * earlier buffer with this id when big enough, else a new one. -1 when memory ran out.
   */
  #tableFor(id: number, n: number): number {
    if (this.#tableCapacity[id] >= n) return this.#table[id];
    let table: number;
    try {
      table = this.#allocator.alloc(n * DESC_SIZE, DESC_SIZE);
    } catch {
      return -1;
    }
    if (this.#tableCapacity[id] > 0) this.#allocator.free(this.#table[id]);
    this.#table[id] = table;
    this.#tableCapacity[id] = n;
    this.#tableWords[id] = tableWords(this.#memory, table, n * DESC_SIZE);
    return table;
  }

  /** An indirect table: only VIRTQ_DESC_F_WRITE is set in its descriptors. */
  #writeTable(id: number, table: number, out: readonly Segment[], inSegs: readonly Segment[]): void {
    const m = this.#memory;
    const n = out.length + inSegs.length;
    const words = this.#tableWords[id];
    if (words !== null) {
      // id 0, flags in the high half of the last word.
      for (let k = 0; k < n; k++) {
        const s = k < out.length ? out[k] : inSegs[k - out.length];
        writeTableEntry(words, k, s.addr, s.len, k < out.length ? 0 : VIRTQ_DESC_F_WRITE << 16);
      }
      return;
    }
    for (let k = 0; k < n; k++) {
      const s = k < out.length ? out[k] : inSegs[k - out.length];
      const e = table + k * DESC_SIZE;
      m.writeU64(e + DESC_ADDR, s.addr);
      m.writeU32(e + DESC_LEN, s.len);
      m.writeU16(e + DESC_ID, 0);
      m.writeU16(e + DESC_FLAGS, k < out.length ? 0 : VIRTQ_DESC_F_WRITE);
    }
  }

  #complete(id: number, len: number): UsedBuffer<T> {
    const n = this.#slots[id];
    const token = this.#tokens[id] as T;
    this.#tokens[id] = undefined;
    this.#slots[id] = 0;
    this.#freeIds[this.#freeCount++] = id;
    this.#numFree += n;
    this.#usedIndex += n;
    if (this.#usedIndex >= this.#size) {
      this.#usedIndex -= this.#size;
      this.#usedWrap ^= 1;
    }
    if (this.#features.inOrder) {
      this.#orderHead = (this.#orderHead + 1) % this.#size;
      if (id === this.#batchEnd) this.#batchEnd = -1;
    }
    if (this.#interrupts && this.#features.eventIdx) moveEvent(this.#views.driverEvent, this.#usedIndex, this.#usedWrap);
    return { token, len: Math.min(len, this.#inLength[id]) };
  }
}
