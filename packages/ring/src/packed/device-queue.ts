import { GuestMemoryError, VirtqueueError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { DescriptorChain, DeviceQueue, QueueConfig } from '../queue/types.js';
import { PackedChain, PackedChainReader } from './chain-reader.js';
import { disableEvents, enableEvents, eventRequested, moveEvent } from './event-suppression.js';
import { VIRTQ_DESC_F_WRITE, isAvail, usedBits } from './layout.js';
import { PackedRingViews } from './ring-views.js';

/**
 * The device side of a packed virtqueue (spec 2.8).
 *
 * pop() reads available buffers in ring order, following VIRTQ_DESC_F_NEXT lists and indirect
 * tables, and validates everything the driver wrote. push() writes one used descriptor per
 * buffer (id and len first, flags last) in the order buffers complete, except the flags of the
 * first used descriptor of a batch: {@link needsNotification} stores those last, so the driver,
 * which polls only its next used position, sees the whole batch at once (spec 2.8 "Polling of
 * available and used descriptors"; the driver's batch rule of "Placing Available Buffers Into
 * The Descriptor Ring", mirrored). With VIRTIO_F_IN_ORDER
 * buffers must be pushed in the order they were popped, and consecutive fully-written buffers
 * are returned as one used descriptor carrying the last buffer's id (spec 2.8.9), written out
 * at the next {@link needsNotification} (at once when a buffer was not fully written, since
 * skipped buffers count as wholly written).
 *
 * The queue keeps only views, indices and wrap counters; it reads no buffer contents.
 */
export class PackedDeviceQueue implements DeviceQueue {
  readonly size: number;
  readonly packed = true;
  readonly #views: PackedRingViews;
  readonly #eventIdx: boolean;
  readonly #inOrder: boolean;
  readonly #reader: PackedChainReader;
  /** One chain per buffer id, refilled by a pop of that id after its push; replaced on reset. */
  #chains: (PackedChain | undefined)[];
  /** The chain the next pop reads into; it trades places with the id's chain when the pop succeeds. */
  #spare = new PackedChain(0, 0);
  /** 1 for each buffer id in flight. */
  readonly #outstanding: Uint8Array;
  /** In-flight buffer ids in the order they were popped (VIRTIO_F_IN_ORDER only). */
  readonly #order: Uint16Array;
  #orderHead = 0;
  #inFlight = 0;
  /** Slots popped whose used descriptor is not yet written (never above size). */
  #outstandingSlots = 0;
  /** Next descriptor to read, and the wrap counter it is expected available with. */
  #availIndex = 0;
  #availWrap = 1;
  /** Next descriptor to write as used, and the Device Ring Wrap Counter. */
  #usedIndex = 0;
  #usedWrap = 1;
  /** Used slots written since the last notification decision, starting at (#signalIndex, #signalWrap). */
  #signalIndex = 0;
  #signalWrap = 1;
  #signalCount = 0;
  /** VIRTIO_F_IN_ORDER batch pushed but not yet written: slots, last id, last len. */
  #batchSlots = 0;
  #batchId = 0;
  #batchLen = 0;
  /** The first used descriptor written since the last publication (-1: none) and its flags. */
  #firstUsed = -1;
  #firstFlags = 0;
  /** Available buffer notifications requested (enableNotifications) and not disabled since. */
  #notifying = true;
  #generation = 0;

  /**
   * @param memory guest memory holding the ring
   * @param config the queue as the driver configured it: descTable = descriptor ring (16-byte
   *   aligned), driverArea = driver event suppression, deviceArea = device event suppression
   *   (4-byte aligned), size 1..32768 (any value, not only powers of two)
   * @throws VirtqueueError 'bad-queue-config' or 'address-out-of-range' when the configuration
   *   is not a valid packed ring inside one region of guest memory
   */
  constructor(memory: GuestMemory, config: QueueConfig) {
    if (!config.packed) throw new VirtqueueError('bad-queue-config', 'PackedDeviceQueue given a split queue config');
    this.#views = new PackedRingViews(memory, config.size, config.descTable, config.driverArea, config.deviceArea);
    this.size = config.size;
    this.#eventIdx = config.features.eventIdx;
    this.#inOrder = config.features.inOrder;
    this.#reader = new PackedChainReader(this.#views, memory, config.features.indirectDesc);
    this.#outstanding = new Uint8Array(this.size);
    this.#order = new Uint16Array(this.size);
    this.#chains = new Array<PackedChain | undefined>(this.size);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * The next available buffer in ring order, or null when the descriptor at the device's
   * position is not available under its wrap counter.
   * @throws VirtqueueError for any malformed buffer (the queue does not move past it):
   *   'chain-too-long' (a list longer than the queue size, an indirect table of more entries, or
   *   a list running into a descriptor that is not available), 'readable-after-writable',
   *   'bad-indirect-length', 'nested-indirect', 'indirect-with-next', 'indirect-not-negotiated',
   *   'address-out-of-range', 'length-overflow'; 'descriptor-index-out-of-range' for a buffer id
   *   at or above the size, 'head-in-flight' for a buffer id still in flight, 'avail-index-jump'
   *   when the driver made more descriptors available than the ring holds
   */
  pop(): DescriptorChain | null {
    const v = this.#views;
    const flags = v.loadFlags(this.#availIndex);
    if (!isAvail(flags, this.#availWrap)) return null;
    const chain = this.#spare;
    try {
      this.#reader.read(chain, this.#availIndex, this.#availWrap, flags);
    } catch (e) {
      if (e instanceof GuestMemoryError) throw new VirtqueueError('address-out-of-range', e.message);
      throw e;
    }
    const id = chain.id;
    if (id >= this.size) {
      throw new VirtqueueError('descriptor-index-out-of-range', `buffer id ${id} is not below the queue size ${this.size}`);
    }
    if (this.#outstanding[id] !== 0) {
      throw new VirtqueueError('head-in-flight', `buffer id ${id} made available again while in flight`);
    }
    const n = chain.slots;
    if (this.#outstandingSlots + n > this.size) {
      throw new VirtqueueError('avail-index-jump', `driver made more than ${this.size} descriptors available`);
    }
    // The id's previous chain was pushed (the id is not in flight): it becomes the spare.
    this.#spare = this.#chains[id] ?? new PackedChain(0, 0);
    this.#chains[id] = chain;
    chain.generation = this.#generation;
    this.#outstanding[id] = 1;
    if (this.#inOrder) this.#order[(this.#orderHead + this.#inFlight) % this.size] = id;
    this.#inFlight++;
    this.#outstandingSlots += n;
    this.#availIndex += n;
    if (this.#availIndex >= this.size) {
      this.#availIndex -= this.size;
      this.#availWrap ^= 1;
    }
    if (this.#notifying && this.#eventIdx) moveEvent(v.deviceEvent, this.#availIndex, this.#availWrap);
    return chain;
  }

  /**
   * Marks a popped buffer used, `written` bytes having been written to its writable part.
   * A chain popped before a {@link reset} is dropped silently.
   * @throws VirtqueueError 'bad-used-id' when the chain is not in flight on this queue, or
   *   (VIRTIO_F_IN_ORDER) is not the oldest in flight; 'bad-used-len' when `written` is not an
   *   integer in [0, writableLength]
   */
  push(chain: DescriptorChain, written: number): void {
    const id = chain.id;
    if (!(chain instanceof PackedChain)) throw new VirtqueueError('bad-used-id', `buffer ${id} is not in flight on this queue`);
    if (chain.generation !== this.#generation) return;
    if (this.#outstanding[id] !== 1) throw new VirtqueueError('bad-used-id', `buffer ${id} is not in flight on this queue`);
    if (!Number.isInteger(written) || written < 0 || written > chain.writableLength) {
      throw new VirtqueueError('bad-used-len', `${written} bytes written to buffer ${id} of ${chain.writableLength} writable bytes`);
    }
    if (this.#inOrder) {
      const oldest = this.#order[this.#orderHead];
      if (id !== oldest) {
        throw new VirtqueueError('bad-used-id', `buffer ${id} pushed before buffer ${oldest} under VIRTIO_F_IN_ORDER`);
      }
      this.#orderHead = (this.#orderHead + 1) % this.size;
      this.#release(id);
      this.#batchSlots += chain.slots;
      this.#batchId = id;
      this.#batchLen = written;
      if (written !== chain.writableLength) this.#flushBatch();
      return;
    }
    this.#release(id);
    this.#writeUsed(id, written, chain.slots);
  }

  /**
   * Ends the batch: writes out any VIRTIO_F_IN_ORDER batch, publishes the used descriptors
   * written since the last call by storing the first one's flags (the others' are already
   * written), then decides whether the driver asked for a used buffer notification covering
   * them, from the
   * Driver Event Suppression structure: never under RING_EVENT_FLAGS_DISABLE; with
   * RING_EVENT_FLAGS_DESC and VIRTIO_F_EVENT_IDX only when they cover the descriptor it names;
   * otherwise whenever something was used. Resets the batch.
   */
  needsNotification(): boolean {
    this.#flushBatch();
    if (this.#firstUsed >= 0) {
      this.#views.storeFlags(this.#firstUsed, this.#firstFlags);
      this.#firstUsed = -1;
    }
    const notify = eventRequested(this.#views.driverEvent, this.#eventIdx, this.size, this.#signalIndex, this.#signalWrap, this.#signalCount);
    this.#signalIndex = this.#usedIndex;
    this.#signalWrap = this.#usedWrap;
    this.#signalCount = 0;
    return notify;
  }

  /**
   * Asks for available buffer notifications: RING_EVENT_FLAGS_DESC naming the next descriptor
   * to read with VIRTIO_F_EVENT_IDX (pop keeps it current), else RING_EVENT_FLAGS_ENABLE. Then
   * re-checks that descriptor. @returns true when a buffer is available (pop before sleeping).
   */
  enableNotifications(): boolean {
    this.#notifying = true;
    enableEvents(this.#views.deviceEvent, this.#eventIdx, this.#availIndex, this.#availWrap);
    return isAvail(this.#views.loadFlags(this.#availIndex), this.#availWrap);
  }

  /** Writes RING_EVENT_FLAGS_DISABLE into the Device Event Suppression structure. */
  disableNotifications(): void {
    this.#notifying = false;
    disableEvents(this.#views.deviceEvent);
  }

  /**
   * Returns the queue to its initial state (VIRTIO_F_RING_RESET, spec 2.6.1): both wrap
   * counters 1, both positions 0, nothing in flight, no pending batch, notifications enabled.
   * Writes nothing to guest memory; chains popped before the reset are dropped when pushed.
   */
  reset(): void {
    this.#generation++;
    this.#chains = new Array<PackedChain | undefined>(this.size);
    this.#outstanding.fill(0);
    this.#orderHead = 0;
    this.#inFlight = 0;
    this.#outstandingSlots = 0;
    this.#availIndex = 0;
    this.#availWrap = 1;
    this.#usedIndex = 0;
    this.#usedWrap = 1;
    this.#signalIndex = 0;
    this.#signalWrap = 1;
    this.#signalCount = 0;
    this.#batchSlots = 0;
    this.#firstUsed = -1;
    this.#notifying = true;
  }

  #release(id: number): void {
    this.#outstanding[id] = 0;
    this.#inFlight--;
  }

  #flushBatch(): void {
    if (this.#batchSlots === 0) return;
    this.#writeUsed(this.#batchId, this.#batchLen, this.#batchSlots);
    this.#batchSlots = 0;
  }

  /**
   * One used descriptor at the device's position standing for `n` slots, flags after id and
   * len; the first of a batch keeps its old flags until the batch is published.
   */
  #writeUsed(id: number, len: number, n: number): void {
    const i = this.#usedIndex;
    const flags = usedBits(this.#usedWrap) | (len > 0 ? VIRTQ_DESC_F_WRITE : 0);
    this.#views.writeUsedFields(i, len, id);
    if (this.#firstUsed < 0) {
      this.#firstUsed = i;
      this.#firstFlags = flags;
    } else {
      this.#views.writeFlags(i, flags);
    }
    this.#usedIndex += n;
    if (this.#usedIndex >= this.size) {
      this.#usedIndex -= this.size;
      this.#usedWrap ^= 1;
    }
    this.#outstandingSlots -= n;
    this.#signalCount += n;
  }
}
