import { VirtqueueError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { ReusableChain } from '../queue/reusable-chain.js';
import {
  DESC_ADDR,
  DESC_FLAGS,
  DESC_LEN,
  DESC_SIZE,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  isAvail,
} from './layout.js';
import type { PackedRingViews } from './ring-views.js';

const TWO_32 = 2 ** 32;

/**
 * A buffer popped from a packed ring: the validated chain plus what the device queue needs
 * back at push. The device queue keeps one per buffer id and refills it after its push.
 */
export class PackedChain extends ReusableChain {
  /** Ring slots the buffer took (1 for an indirect table). */
  slots = 0;
}

/**
 * Reads and validates one available buffer of a packed ring on the device side (spec 2.8.6
 * "Next Flag: Descriptor Chaining", 2.8.7 "Indirect Flag"). Guest memory is hostile input:
 * every descriptor after the first must itself be available, a list never exceeds the queue
 * size (so a walk always ends), indirect tables are bounded and not nested, and every
 * element lies inside guest memory. Any violation throws {@link VirtqueueError}; an
 * indirect table access outside memory may throw GuestMemoryError (the queue converts it).
 */
export class PackedChainReader {
  readonly #views: PackedRingViews;
  readonly #memory: GuestMemory;
  readonly #indirectDesc: boolean;

  constructor(views: PackedRingViews, memory: GuestMemory, indirectDesc: boolean) {
    this.#views = views;
    this.#memory = memory;
    this.#indirectDesc = indirectDesc;
  }

  /**
   * Reads into `chain` (id, segments, lengths, slots) the buffer whose first descriptor, at
   * ring index `index` under wrap counter `wrap`, the caller observed available (flags
   * `first`, loaded with acquire ordering). Descriptors are used in the order the driver
   * chained them with VIRTQ_DESC_F_NEXT. `chain` must not be in flight.
   */
  read(chain: PackedChain, index: number, wrap: number, first: number): void {
    const v = this.#views;
    const size = v.size;
    chain.begin();
    let flags = first;
    let n = 1;
    for (;;) {
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.#indirectDesc) {
          throw new VirtqueueError('indirect-not-negotiated', `descriptor ${index} sets VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC`);
        }
        if (n > 1 || flags & VIRTQ_DESC_F_NEXT) {
          throw new VirtqueueError('indirect-with-next', `descriptor ${index} sets VIRTQ_DESC_F_INDIRECT in a list linked by VIRTQ_DESC_F_NEXT`);
        }
        this.#readIndirect(chain, v.addr(index), v.len(index));
        break;
      }
      this.#add(chain, v.addr(index), v.len(index), (flags & VIRTQ_DESC_F_WRITE) !== 0);
      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      if (n === size) {
        throw new VirtqueueError('chain-too-long', `descriptor list longer than the queue size ${size}`);
      }
      if (++index === size) {
        index = 0;
        wrap ^= 1;
      }
      flags = v.loadFlags(index);
      if (!isAvail(flags, wrap)) {
        throw new VirtqueueError('chain-too-long', `descriptor list runs into descriptor ${index}, which is not available`);
      }
      n++;
    }
    chain.end();
    chain.id = v.id(index);
    chain.slots = n;
  }

  /** An indirect table: `len` bytes of struct pvirtq_desc at `addr`, at most queue-size entries. */
  #readIndirect(chain: PackedChain, addr: number, len: number): void {
    if (len === 0 || len % DESC_SIZE !== 0) {
      throw new VirtqueueError('bad-indirect-length', `indirect table length ${len} is not a non-zero multiple of ${DESC_SIZE}`);
    }
    const entries = len / DESC_SIZE;
    if (entries > this.#views.size) {
      throw new VirtqueueError('chain-too-long', `indirect table of ${entries} descriptors exceeds the queue size ${this.#views.size}`);
    }
    const m = this.#memory;
    if (!m.contains(addr, len)) {
      throw new VirtqueueError('address-out-of-range', `indirect table [0x${addr.toString(16)}, +${len}) is outside guest memory`);
    }
    for (let e = addr, end = addr + len; e < end; e += DESC_SIZE) {
      // Only VIRTQ_DESC_F_WRITE is valid in an indirect table; NEXT and id are ignored.
      const flags = m.readU16(e + DESC_FLAGS);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        throw new VirtqueueError('nested-indirect', `indirect table at 0x${addr.toString(16)} holds an indirect descriptor`);
      }
      this.#add(chain, m.readU64Number(e + DESC_ADDR), m.readU32(e + DESC_LEN), (flags & VIRTQ_DESC_F_WRITE) !== 0);
    }
  }

  /** Appends one element: inside guest memory, readable ones first, each part's total < 2^32. */
  #add(chain: PackedChain, addr: number, len: number, writable: boolean): void {
    if (!this.#memory.contains(addr, len)) {
      throw new VirtqueueError('address-out-of-range', `buffer [0x${addr.toString(16)}, +${len}) is outside guest memory`);
    }
    if (writable) {
      chain.addWritable(addr, len);
      if (chain.writableLength >= TWO_32) throw new VirtqueueError('length-overflow', 'writable part is 2^32 bytes or more');
    } else {
      if (chain.hasWritable) {
        throw new VirtqueueError('readable-after-writable', 'a device-readable element follows a device-writable one');
      }
      chain.addReadable(addr, len);
      if (chain.readableLength >= TWO_32) throw new VirtqueueError('length-overflow', 'readable part is 2^32 bytes or more');
    }
  }
}
