import { VirtqueueError } from '../errors.js';
import { le16, le32 } from '../memory/endian.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DriverQueue, GuestAllocator, QueueConfig, RingFeatures, Segment, UsedBuffer } from '../queue/types.js';
import {
  DESC_SIZE,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_USED_F_NO_NOTIFY,
  splitLayout,
} from './layout.js';
import { tableWords, writeTableEntry } from '../queue/indirect-table.js';
import { needEvent, ringPart, u16View, u32View } from './views.js';

const TWO_32 = 2 ** 32;

/** Options of a driver-side queue. */
export interface DriverQueueOptions {
  /** Queue size: split, a power of two up to 32768; packed, 1..32768. */
  readonly size: number;
  readonly features: RingFeatures;
}

/**
 * The driver side of a split virtqueue (spec 2.7): lays out the descriptor table, available
 * ring and used ring with a {@link GuestAllocator} (zeroed, so the used ring `flags` starts at
 * 0), exposes buffers, decides notifications and reaps used buffers.
 *
 * The free-descriptor list and each chain's shape are kept in host memory, never read back
 * from the ring. With VIRTIO_F_IN_ORDER descriptors are used in ring order and a used entry
 * standing for a batch of buffers is understood (spec 2.7.9).
 */
export class SplitDriverQueue<T = unknown> implements DriverQueue<T> {
  readonly config: QueueConfig;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #features: RingFeatures;
  readonly #size: number;
  readonly #mask: number;
  readonly #desc32: Uint32Array;
  readonly #desc16: Uint16Array;
  readonly #avail16: Uint16Array;
  readonly #used16: Uint16Array;
  readonly #used32: Uint32Array;
  readonly #usedEventIndex: number;
  readonly #availEventIndex: number;
  /** Free list links (and, inside a chain, the chain's links). */
  readonly #next: Uint16Array;
  /** Per head: descriptors the chain occupies in the table (0 when the head is free). */
  readonly #count: Uint16Array;
  /** Per head: total device-writable bytes (the used `len` is clamped to it). */
  readonly #writable: Float64Array;
  /** Per head: the indirect table kept for reuse (address, capacity in descriptors). */
  readonly #tableAddr: Float64Array;
  readonly #tableCap: Uint32Array;
  /** Per head: its table's host words when it has a single aligned view (see tableWords). */
  readonly #tableWords: (Uint32Array | null)[];
  readonly #tokens: (T | undefined)[];
  #freeHead = 0;
  #numFree: number;
  #availIdx = 0;
  #added = 0;
  #lastUsed = 0;
  #interrupts = true;
  /** In-order: the head the next used buffer must have; -1 when not in a batch. */
  #nextUsedHead = 0;
  #batchEnd = -1;
  #batchLen = 0;

  /**
   * @throws VirtqueueError 'bad-queue-config' for a bad queue size or when the allocator hands
   *   out memory crossing a region boundary; allocator errors when memory is exhausted.
   */
  constructor(memory: GuestMemory, allocator: GuestAllocator, opts: DriverQueueOptions) {
    const layout = splitLayout(opts.size);
    this.#memory = memory;
    this.#allocator = allocator;
    this.#features = { ...opts.features };
    this.#size = opts.size;
    this.#mask = opts.size - 1;
    const descTable = allocator.alloc(layout.descTableBytes, layout.descTableAlign);
    const driverArea = allocator.alloc(layout.availRingBytes, layout.availRingAlign);
    const deviceArea = allocator.alloc(layout.usedRingBytes, layout.usedRingAlign);
    const desc = ringPart(memory, descTable, layout.descTableBytes, layout.descTableAlign, 'descriptor table');
    const avail = ringPart(memory, driverArea, layout.availRingBytes, layout.availRingAlign, 'available ring');
    const used = ringPart(memory, deviceArea, layout.usedRingBytes, layout.usedRingAlign, 'used ring');
    desc.fill(0);
    avail.fill(0);
    used.fill(0);
    this.#desc32 = u32View(desc);
    this.#desc16 = u16View(desc);
    this.#avail16 = u16View(avail);
    this.#used16 = u16View(used);
    this.#used32 = u32View(used);
    this.#usedEventIndex = 2 + opts.size;
    this.#availEventIndex = 2 + 4 * opts.size;
    this.#next = new Uint16Array(opts.size);
    for (let i = 0; i < opts.size; i++) this.#next[i] = (i + 1) & this.#mask;
    this.#count = new Uint16Array(opts.size);
    this.#writable = new Float64Array(opts.size);
    this.#tableAddr = new Float64Array(opts.size).fill(-1);
    this.#tableCap = new Uint32Array(opts.size);
    this.#tableWords = new Array<Uint32Array | null>(opts.size).fill(null);
    this.#tokens = new Array<T | undefined>(opts.size);
    this.#numFree = opts.size;
    this.config = { size: opts.size, descTable, driverArea, deviceArea, packed: false, features: this.#features };
  }

  get numFree(): number {
    return this.#numFree;
  }

  /**
   * Places a buffer in the descriptor table and the available ring (not yet visible: see
   * {@link kick}). Device-readable `out` segments come before device-writable `inSegs`
   * (spec 2.7.4). An indirect table is used when `opts.indirect` is true, or by default when
   * VIRTIO_F_INDIRECT_DESC is on and the buffer has more than one segment.
   * @returns false when there are not enough free descriptors or no memory for the table.
   * @throws RangeError for an empty buffer, a segment that is not (integer address, u32
   *   length), a total of 2^32 bytes or more, or more segments than the queue size;
   *   VirtqueueError 'indirect-not-negotiated' when asked for indirect without the feature.
   */
  add(out: readonly Segment[], inSegs: readonly Segment[], token: T, opts?: { indirect?: boolean }): boolean {
    const total = out.length + inSegs.length;
    if (total === 0) throw new RangeError('a buffer needs at least one segment');
    if (total > this.#size) throw new RangeError(`${total} segments exceed the queue size ${this.#size}`);
    let bytes = 0;
    let writable = 0;
    for (let k = 0; k < total; k++) {
      const s = k < out.length ? out[k] : inSegs[k - out.length];
      if (!Number.isSafeInteger(s.addr) || s.addr < 0 || !Number.isInteger(s.len) || s.len < 0 || s.len >= TWO_32) {
        throw new RangeError(`segment [${s.addr}, +${s.len}) is not a guest-physical address and u32 length`);
      }
      bytes += s.len;
      if (k >= out.length) writable += s.len;
    }
    if (bytes >= TWO_32) throw new RangeError(`buffer of ${bytes} bytes: a chain must be shorter than 2^32 bytes`);
    const indirect = opts?.indirect ?? (this.#features.indirectDesc && total > 1);
    if (indirect && !this.#features.indirectDesc) {
      throw new VirtqueueError('indirect-not-negotiated', 'indirect buffer without VIRTIO_F_INDIRECT_DESC');
    }
    const needed = indirect ? 1 : total;
    if (this.#numFree < needed) return false;
    const head = this.#freeHead;
    if (indirect) {
      const table = this.#table(head, total);
      if (table < 0) return false;
      const words = this.#tableWords[head];
      for (let k = 0; k < total; k++) {
        const s = k < out.length ? out[k] : inSegs[k - out.length];
        const next = k + 1 < total ? k + 1 : 0;
        const flags = (k >= out.length ? VIRTQ_DESC_F_WRITE : 0) | (next !== 0 ? VIRTQ_DESC_F_NEXT : 0);
        if (words !== null) {
          writeTableEntry(words, k, s.addr, s.len, flags | (next << 16));
        } else {
          const at = table + DESC_SIZE * k;
          this.#memory.writeU64(at, s.addr);
          this.#memory.writeU32(at + 8, s.len);
          this.#memory.writeU16(at + 12, flags);
          this.#memory.writeU16(at + 14, next);
        }
      }
      this.#writeDesc(head, table, DESC_SIZE * total, VIRTQ_DESC_F_INDIRECT, this.#next[head]);
    } else {
      let d = head;
      for (let k = 0; k < total; k++) {
        const isIn = k >= out.length;
        const s = isIn ? inSegs[k - out.length] : out[k];
        const more = k + 1 < total;
        this.#writeDesc(d, s.addr, s.len, (isIn ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0), this.#next[d]);
        if (more) d = this.#next[d];
      }
    }
    let last = head;
    for (let k = 1; k < needed; k++) last = this.#next[last];
    this.#freeHead = this.#next[last];
    this.#numFree -= needed;
    this.#count[head] = needed;
    this.#writable[head] = writable;
    this.#tokens[head] = token;
    this.#avail16[2 + ((this.#availIdx + this.#added) & this.#mask)] = le16(head);
    this.#added++;
    return true;
  }

  /** The indirect table for `head` with room for `n` descriptors, or -1 when memory ran out. */
  #table(head: number, n: number): number {
    if (this.#tableAddr[head] >= 0 && this.#tableCap[head] >= n) return this.#tableAddr[head];
    let addr: number;
    try {
      addr = this.#allocator.alloc(DESC_SIZE * n, DESC_SIZE);
    } catch {
      return -1;
    }
    if (this.#tableAddr[head] >= 0) this.#allocator.free(this.#tableAddr[head]);
    this.#tableAddr[head] = addr;
    this.#tableCap[head] = n;
    this.#tableWords[head] = tableWords(this.#memory, addr, DESC_SIZE * n);
    return addr;
  }

  #writeDesc(i: number, addr: number, len: number, flags: number, next: number): void {
    // addr is a safe integer (checked in add): >>> 0 is its low word, exactly, without fmod.
    const lo = addr >>> 0;
    this.#desc32[4 * i] = le32(lo);
    this.#desc32[4 * i + 1] = le32((addr - lo) / TWO_32);
    this.#desc32[4 * i + 2] = le32(len);
    this.#desc16[8 * i + 6] = le16(flags);
    this.#desc16[8 * i + 7] = le16(next);
  }

  /**
   * Publishes the added buffers by storing the available `idx` (an Atomics store: the barrier
   * of spec 2.7.13.3), then reads the device's suppression state (spec 2.7.10): without
   * VIRTIO_F_EVENT_IDX, notify when used `flags` is 0; with it, when the available `idx` moved
   * past `avail_event`.
   * @returns whether to send an available buffer notification (false when nothing was added).
   */
  kick(): boolean {
    if (this.#added === 0) return false;
    const old = this.#availIdx;
    const next = (old + this.#added) & 0xffff;
    this.#availIdx = next;
    this.#added = 0;
    Atomics.store(this.#avail16, 1, le16(next));
    if (this.#features.eventIdx) return needEvent(le16(Atomics.load(this.#used16, this.#availEventIndex)), next, old);
    return (le16(Atomics.load(this.#used16, 0)) & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /**
   * The next used buffer with its token and `len` (clamped to the buffer's writable bytes,
   * spec 2.7.8), or null. Frees its descriptors.
   * @throws VirtqueueError 'bad-used-id' when the device returned an id that is not in flight,
   *   or moved the used `idx` past the buffers in flight.
   */
  reap(): UsedBuffer<T> | null {
    const usedIdx = le16(Atomics.load(this.#used16, 1));
    if (usedIdx === this.#lastUsed) return null;
    const inUse = this.#size - this.#numFree;
    if (((usedIdx - this.#lastUsed) & 0xffff) > inUse) {
      throw new VirtqueueError('bad-used-id', `used idx ${usedIdx} is ahead of the buffers in flight`);
    }
    let id: number;
    let len: number;
    if (this.#batchEnd >= 0) {
      id = this.#nextUsedHead;
      len = id === this.#batchEnd ? this.#batchLen : this.#writable[id];
      if (id === this.#batchEnd) this.#batchEnd = -1;
    } else {
      const slot = this.#lastUsed & this.#mask;
      id = le32(this.#used32[1 + 2 * slot]);
      len = le32(this.#used32[2 + 2 * slot]);
      if (id >= this.#size || this.#count[id] === 0) throw new VirtqueueError('bad-used-id', `used id ${id} is not in flight`);
      if (this.#features.inOrder && id !== this.#nextUsedHead) {
        // One used entry for a batch ending at `id`: earlier buffers were used completely.
        this.#batchEnd = id;
        this.#batchLen = len;
        id = this.#nextUsedHead;
        len = this.#writable[id];
      }
    }
    const token = this.#tokens[id] as T;
    const used = { token, len: Math.min(len, this.#writable[id]) };
    this.#free(id);
    this.#lastUsed = (this.#lastUsed + 1) & 0xffff;
    if (this.#interrupts && this.#features.eventIdx) Atomics.store(this.#avail16, this.#usedEventIndex, le16(this.#lastUsed));
    return used;
  }

  #free(head: number): void {
    const n = this.#count[head];
    this.#count[head] = 0;
    this.#tokens[head] = undefined;
    this.#numFree += n;
    if (this.#features.inOrder) {
      // Buffers come back in ring order, so the freed descriptors are the oldest ones and the
      // free pointer just keeps going round the table.
      this.#nextUsedHead = (head + n) & this.#mask;
      return;
    }
    let last = head;
    for (let k = 1; k < n; k++) last = this.#next[last];
    this.#next[last] = this.#freeHead;
    this.#freeHead = head;
  }

  /**
   * Asks for used buffer notifications: available `flags` = 0, or with VIRTIO_F_EVENT_IDX
   * `used_event` = the next used index to reap (spec 2.7.7). Then re-checks the ring.
   * @returns true when used buffers are waiting (reap again before sleeping).
   */
  enableInterrupts(): boolean {
    this.#interrupts = true;
    if (this.#features.eventIdx) Atomics.store(this.#avail16, this.#usedEventIndex, le16(this.#lastUsed));
    else Atomics.store(this.#avail16, 0, 0);
    return le16(Atomics.load(this.#used16, 1)) !== this.#lastUsed;
  }

  /**
   * Tells the device used buffer notifications are not needed: available `flags` =
   * VIRTQ_AVAIL_F_NO_INTERRUPT without VIRTIO_F_EVENT_IDX; with it `flags` stays 0 and
   * `used_event` is left behind (spec 2.7.7). Notifications may still arrive (spurious).
   */
  disableInterrupts(): void {
    this.#interrupts = false;
    if (!this.#features.eventIdx) Atomics.store(this.#avail16, 0, le16(VIRTQ_AVAIL_F_NO_INTERRUPT));
  }
}
