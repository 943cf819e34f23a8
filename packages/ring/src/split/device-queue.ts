import { VirtqueueError } from '../errors.js';
import { le16, le32 } from '../memory/endian.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DescriptorChain, DeviceQueue, QueueConfig } from '../queue/types.js';
import { SplitChain } from './chain.js';
import {
  DESC_SIZE,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_USED_F_NO_NOTIFY,
  splitLayout,
} from './layout.js';
import { needEvent, ringPart, u16View, u32View } from './views.js';

const TWO_32 = 2 ** 32;
/** Descriptor `addr` high words at or above this put the buffer at 2^53 or more: outside any memory. */
const MAX_HIGH_WORD = 2 ** 21;

/**
 * The device side of a split virtqueue (spec 2.7).
 *
 * Ring parts are resolved to typed-array views once, here; the available ring `idx`, the used
 * ring `idx`, both `flags` and the event indices are accessed with Atomics. The used `idx` is
 * kept in a shadow and never read back from guest memory. push() writes used elements;
 * needsNotification() publishes the batch with one store of the used `idx`. Everything the
 * driver wrote is validated; a malformed ring throws {@link VirtqueueError} and nothing else.
 * Chains are walked with a budget of `size` descriptors, so no input loops forever.
 */
export class SplitDeviceQueue implements DeviceQueue {
  readonly size: number;
  readonly packed = false;
  readonly #memory: GuestMemory;
  readonly #indirectDesc: boolean;
  readonly #eventIdx: boolean;
  readonly #inOrder: boolean;
  readonly #mask: number;
  // Descriptor table: per descriptor i, u32[4i] addr low, u32[4i+1] addr high, u32[4i+2] len,
  // u16[8i+6] flags, u16[8i+7] next.
  readonly #desc32: Uint32Array;
  readonly #desc16: Uint16Array;
  // Available ring: u16[0] flags, u16[1] idx, u16[2 + i] ring, u16[2 + size] used_event.
  readonly #avail16: Uint16Array;
  // Used ring: u16[0] flags, u16[1] idx, u32[1 + 2i] id, u32[2 + 2i] len, u16[2 + 4 size] avail_event.
  readonly #used16: Uint16Array;
  readonly #used32: Uint32Array;
  readonly #usedEventIndex: number;
  readonly #availEventIndex: number;
  /** 1 for each head popped and not yet pushed. */
  readonly #outstanding: Uint8Array;
  /** With VIRTIO_F_IN_ORDER: popped heads in pop order (a ring of `size`). */
  readonly #order: Uint16Array;
  #orderHead = 0;
  #orderTail = 0;
  /** One chain per head, refilled when the head is popped again (after its push); replaced on reset. */
  #chains: (SplitChain | undefined)[];

  #lastAvail = 0;
  /** The last available `idx` read from the ring; re-read only when everything up to it was popped. */
  #availIdx = 0;
  #usedIdx = 0;
  /** Used `idx` as published (written to the used ring) at the last needsNotification(). */
  #signalledUsed = 0;
  #batch = 0;
  #inFlight = 0;
  #notify = true;
  #generation = 0;

  /**
   * @throws VirtqueueError 'bad-queue-config' for a queue size that is not a power of two up to
   *   32768, a misaligned ring part or one crossing a region; 'address-out-of-range' when a
   *   ring part lies outside guest memory.
   */
  constructor(memory: GuestMemory, config: QueueConfig) {
    if (config.packed) throw new VirtqueueError('bad-queue-config', 'SplitDeviceQueue given a packed queue config');
    const layout = splitLayout(config.size);
    this.size = config.size;
    this.#mask = config.size - 1;
    this.#memory = memory;
    this.#indirectDesc = config.features.indirectDesc;
    this.#eventIdx = config.features.eventIdx;
    this.#inOrder = config.features.inOrder;
    const desc = ringPart(memory, config.descTable, layout.descTableBytes, layout.descTableAlign, 'descriptor table');
    const avail = ringPart(memory, config.driverArea, layout.availRingBytes, layout.availRingAlign, 'available ring');
    const used = ringPart(memory, config.deviceArea, layout.usedRingBytes, layout.usedRingAlign, 'used ring');
    this.#desc32 = u32View(desc);
    this.#desc16 = u16View(desc);
    this.#avail16 = u16View(avail);
    this.#used16 = u16View(used);
    this.#used32 = u32View(used);
    this.#usedEventIndex = 2 + config.size;
    this.#availEventIndex = 2 + 4 * config.size;
    this.#outstanding = new Uint8Array(config.size);
    this.#order = new Uint16Array(config.size);
    this.#chains = new Array<SplitChain | undefined>(config.size);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * The next available chain, validated, or null when the driver made none available.
   * @throws VirtqueueError for any malformed ring state (see {@link VirtqueueErrorCode}).
   */
  pop(): DescriptorChain | null {
    if (this.#availIdx === this.#lastAvail) {
      this.#availIdx = le16(Atomics.load(this.#avail16, 1));
      if (this.#availIdx === this.#lastAvail) return null;
      if (((this.#availIdx - this.#lastAvail) & 0xffff) > this.size) {
        const moved = (this.#availIdx - this.#lastAvail) & 0xffff;
        this.#availIdx = this.#lastAvail;
        throw new VirtqueueError('avail-index-jump', `available idx moved by ${moved} for a queue of ${this.size}`);
      }
    }
    const head = le16(this.#avail16[2 + (this.#lastAvail & this.#mask)]);
    if (head >= this.size) {
      throw new VirtqueueError('descriptor-index-out-of-range', `head ${head} in a queue of ${this.size}`);
    }
    if (this.#outstanding[head] !== 0) {
      throw new VirtqueueError('head-in-flight', `head ${head} made available again while in flight`);
    }
    const chain = this.#walk(head);
    this.#lastAvail = (this.#lastAvail + 1) & 0xffff;
    this.#outstanding[head] = 1;
    this.#inFlight++;
    if (this.#inOrder) {
      this.#order[this.#orderTail] = head;
      this.#orderTail = (this.#orderTail + 1) & this.#mask;
    }
    if (this.#notify && this.#eventIdx) {
      Atomics.store(this.#used16, this.#availEventIndex, le16(this.#lastAvail));
    }
    return chain;
  }

  /** Walks and validates the chain starting at `head` (spec 2.7.5, 2.7.5.3). */
  #walk(head: number): SplitChain {
    let chain = this.#chains[head];
    if (chain === undefined) chain = this.#chains[head] = new SplitChain(head, this.#generation);
    chain.begin();
    let count = 0;
    let i = head;
    for (;;) {
      if (++count > this.size) throw new VirtqueueError('chain-too-long', `chain from head ${head} exceeds ${this.size} descriptors or loops`);
      const hi = le32(this.#desc32[4 * i + 1]);
      const addr = hi * TWO_32 + le32(this.#desc32[4 * i]);
      const len = le32(this.#desc32[4 * i + 2]);
      const flags = le16(this.#desc16[8 * i + 6]);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        this.#walkIndirect(head, addr, hi, len, flags, count, chain);
        break;
      }
      this.#checkBuffer(addr, hi, len);
      if ((flags & VIRTQ_DESC_F_WRITE) !== 0) {
        chain.addWritable(addr, len);
      } else {
        if (chain.hasWritable) throw new VirtqueueError('readable-after-writable', `descriptor ${i} of chain ${head}`);
        chain.addReadable(addr, len);
      }
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) break;
      i = le16(this.#desc16[8 * i + 7]);
      if (i >= this.size) throw new VirtqueueError('descriptor-index-out-of-range', `next ${i} in chain ${head}`);
    }
    chain.end();
    // Each length is below 2^32 and a chain has at most 32768 of them: the sum is exact.
    const total = chain.readableLength + chain.writableLength;
    if (total >= TWO_32) throw new VirtqueueError('length-overflow', `chain ${head} is ${total} bytes long`);
    return chain;
  }

  /**
   * Follows an indirect descriptor: walks its table (spec 2.7.5.3). The
   * VIRTQ_DESC_F_WRITE flag of the descriptor referring to the table is ignored. `walked`
   * descriptors were walked before the table; the table's entries count toward the same budget.
   */
  #walkIndirect(
    head: number,
    addr: number,
    hi: number,
    len: number,
    flags: number,
    walked: number,
    chain: SplitChain,
  ): void {
    let count = walked;
    if (!this.#indirectDesc) throw new VirtqueueError('indirect-not-negotiated', `chain ${head}`);
    if ((flags & VIRTQ_DESC_F_NEXT) !== 0) throw new VirtqueueError('indirect-with-next', `chain ${head}`);
    if (len === 0 || len % DESC_SIZE !== 0) throw new VirtqueueError('bad-indirect-length', `indirect table of ${len} bytes in chain ${head}`);
    const n = len / DESC_SIZE;
    // The table's entries take the place of the descriptor pointing to it.
    count--;
    if (count + n > this.size) {
      throw new VirtqueueError('chain-too-long', `indirect table of ${n} descriptors in chain ${head} exceeds the queue size ${this.size}`);
    }
    this.#checkBuffer(addr, hi, len);
    // The whole table lies in guest memory (checked), so these reads cannot fail; each field of
    // an entry is read once, so a driver changing the table meanwhile changes nothing checked.
    // (Copying the table first costs a view per chain, several times the reads of a small table.)
    const m = this.#memory;
    let j = 0;
    for (;;) {
      if (++count > this.size) throw new VirtqueueError('chain-too-long', `indirect table of chain ${head} loops`);
      const e = addr + DESC_SIZE * j;
      const dhi = m.readU32(e + 4);
      const daddr = dhi * TWO_32 + m.readU32(e);
      const dlen = m.readU32(e + 8);
      const dflags = m.readU16(e + 12);
      if ((dflags & VIRTQ_DESC_F_INDIRECT) !== 0) throw new VirtqueueError('nested-indirect', `entry ${j} of chain ${head}'s table`);
      this.#checkBuffer(daddr, dhi, dlen);
      if ((dflags & VIRTQ_DESC_F_WRITE) !== 0) {
        chain.addWritable(daddr, dlen);
      } else {
        if (chain.hasWritable) throw new VirtqueueError('readable-after-writable', `entry ${j} of chain ${head}'s table`);
        chain.addReadable(daddr, dlen);
      }
      if ((dflags & VIRTQ_DESC_F_NEXT) === 0) return;
      j = m.readU16(e + 14);
      if (j >= n) throw new VirtqueueError('descriptor-index-out-of-range', `next ${j} in chain ${head}'s table of ${n}`);
    }
  }

  #checkBuffer(addr: number, hi: number, len: number): void {
    if (hi >= MAX_HIGH_WORD || !this.#memory.contains(addr, len)) {
      throw new VirtqueueError('address-out-of-range', `buffer [0x${addr.toString(16)}, +${len}) is outside guest memory`);
    }
  }

  /**
   * Returns a chain to the driver: writes the used element (`id`, then `len` = `written`) into
   * the next used ring slot. The used `idx` is not written here: the batch is published by
   * {@link needsNotification} (spec 2.7.8: the driver sees used elements only through `idx`,
   * so a batch, such as one VIRTIO_NET_F_MRG_RXBUF packet, appears to it all at once). A chain
   * popped before a {@link reset} is dropped silently: after a queue reset the device must not
   * touch the ring.
   * @throws VirtqueueError 'bad-used-id' for a chain not in flight (or pushed out of order under
   *   VIRTIO_F_IN_ORDER); 'bad-used-len' when `written` is not an integer in [0, writableLength].
   */
  push(chain: DescriptorChain, written: number): void {
    const id = chain.id;
    if (!(chain instanceof SplitChain)) throw new VirtqueueError('bad-used-id', `chain ${id} is not in flight on this queue`);
    if (chain.generation !== this.#generation) return;
    if (this.#outstanding[id] !== 1) throw new VirtqueueError('bad-used-id', `chain ${id} is not in flight on this queue`);
    if (!Number.isInteger(written) || written < 0 || written > chain.writableLength) {
      throw new VirtqueueError('bad-used-len', `${written} bytes written to chain ${id} of ${chain.writableLength} writable bytes`);
    }
    if (this.#inOrder) {
      if (this.#order[this.#orderHead] !== id) {
        throw new VirtqueueError('bad-used-id', `chain ${id} pushed out of order under VIRTIO_F_IN_ORDER`);
      }
      this.#orderHead = (this.#orderHead + 1) & this.#mask;
    }
    const slot = this.#usedIdx & this.#mask;
    this.#used32[1 + 2 * slot] = le32(id);
    this.#used32[2 + 2 * slot] = le32(written);
    this.#usedIdx = (this.#usedIdx + 1) & 0xffff;
    this.#outstanding[id] = 0;
    this.#inFlight--;
    this.#batch++;
  }

  /**
   * Ends the batch of pushes since the last call: publishes them with one store of the used
   * `idx` (after their elements: spec 2.7.8, [split.dev.7]), then decides whether the driver
   * must get a used buffer notification (spec 2.7.7): without VIRTIO_F_EVENT_IDX, when the
   * available ring `flags` is 0; with it, when the used `idx` moved past `used_event` across
   * the whole batch (vring_need_event with old = `idx` before the batch).
   */
  needsNotification(): boolean {
    const old = this.#signalledUsed;
    const next = this.#usedIdx;
    const batch = this.#batch;
    this.#signalledUsed = next;
    this.#batch = 0;
    if (batch === 0) return false;
    Atomics.store(this.#used16, 1, le16(next));
    if (this.#eventIdx) {
      return batch >= 0x10000 || needEvent(le16(Atomics.load(this.#avail16, this.#usedEventIndex)), next, old);
    }
    return (le16(Atomics.load(this.#avail16, 0)) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /**
   * Asks for available buffer notifications: used `flags` = 0, or with VIRTIO_F_EVENT_IDX
   * `avail_event` = the next available index to pop (spec 2.7.10). Then re-checks the ring.
   * @returns true when buffers are available (pop again before sleeping).
   */
  enableNotifications(): boolean {
    this.#notify = true;
    if (this.#eventIdx) Atomics.store(this.#used16, this.#availEventIndex, le16(this.#lastAvail));
    else Atomics.store(this.#used16, 0, 0);
    return le16(Atomics.load(this.#avail16, 1)) !== this.#lastAvail;
  }

  /**
   * Tells the driver not to notify: used `flags` = VIRTQ_USED_F_NO_NOTIFY without
   * VIRTIO_F_EVENT_IDX; with it `flags` stays 0 (spec 2.7.10) and `avail_event` is left
   * behind, so the driver notifies at most once more.
   */
  disableNotifications(): void {
    this.#notify = false;
    if (!this.#eventIdx) Atomics.store(this.#used16, 0, le16(VIRTQ_USED_F_NO_NOTIFY));
  }

  /**
   * Returns the queue to its initial state (VIRTIO_F_RING_RESET, spec 2.6.1): next available
   * and used indices 0, nothing in flight, notifications enabled. Writes nothing to guest
   * memory; chains popped before the reset are dropped when pushed.
   */
  reset(): void {
    this.#generation++;
    this.#chains = new Array<SplitChain | undefined>(this.size);
    this.#lastAvail = 0;
    this.#availIdx = 0;
    this.#usedIdx = 0;
    this.#signalledUsed = 0;
    this.#batch = 0;
    this.#inFlight = 0;
    this.#notify = true;
    this.#outstanding.fill(0);
    this.#orderHead = 0;
    this.#orderTail = 0;
  }
}
