/**
 * The contract between virtqueue layouts (split, spec 2.7; packed, spec 2.8) and everything
 * above them. Device packages and transports use only these interfaces, never a layout.
 */
import type { GuestMemory } from '../memory/guest-memory.js';

/** One guest buffer of a descriptor chain: a guest-physical address and a length in bytes. */
export interface Segment {
  readonly addr: number;
  readonly len: number;
}

/**
 * A descriptor chain popped from the available ring (split) or the descriptor ring (packed),
 * validated and resolved: indirect tables are already followed, so `readable` and `writable`
 * list the device-readable and device-writable buffers in chain order.
 *
 * Lifetime: a popped chain (its `readable` and `writable` arrays and their segments included)
 * stays unchanged for as long as the device holds it, across any number of other pops and
 * pushes and across async work, until it is pushed. After `push` the queue may reuse the
 * object for a later pop (no allocation per chain on the hot path): copy out anything needed
 * afterwards, before pushing. Chains held across a queue reset are never reused.
 */
export interface DescriptorChain {
  /** Split: head descriptor index. Packed: buffer ID. This is the id written to the used ring. */
  readonly id: number;
  /** Device-readable segments, in order (spec "driver-written" / "device-readable" buffers). */
  readonly readable: readonly Segment[];
  /** Device-writable segments, in order. */
  readonly writable: readonly Segment[];
  /** Sum of readable lengths, in bytes (< 2^32, checked). */
  readonly readableLength: number;
  /** Sum of writable lengths, in bytes (< 2^32, checked). */
  readonly writableLength: number;
}

/** Which ring-level features were negotiated; the transport derives them from feature bits. */
export interface RingFeatures {
  /** VIRTIO_F_INDIRECT_DESC */
  readonly indirectDesc: boolean;
  /** VIRTIO_F_EVENT_IDX */
  readonly eventIdx: boolean;
  /** VIRTIO_F_IN_ORDER */
  readonly inOrder: boolean;
}

/**
 * Where a queue lives, as the driver configured it through the transport.
 * Addresses are guest-physical. For split: descTable = descriptor table, driverArea =
 * available ring, deviceArea = used ring. For packed: descTable = descriptor ring,
 * driverArea = driver event suppression, deviceArea = device event suppression.
 */
export interface QueueConfig {
  /** Queue size (number of descriptors). Split: a power of two up to 32768; packed: 1..32768. */
  readonly size: number;
  readonly descTable: number;
  readonly driverArea: number;
  readonly deviceArea: number;
  /** VIRTIO_F_RING_PACKED negotiated. */
  readonly packed: boolean;
  readonly features: RingFeatures;
}

/**
 * The device side of one virtqueue, over either layout.
 *
 * Batches: pushed buffers become visible to the driver at needsNotification(), not at push().
 * A device pushes a batch (one completion round, or every buffer of one VIRTIO_NET_F_MRG_RXBUF
 * packet) and then calls needsNotification() once; the driver sees the whole batch or none of
 * it (split: one store of the used `idx`; packed: the batch's first used descriptor's flags
 * are stored last). A push never followed by needsNotification() is never seen by the driver.
 *
 * Errors: every method that reads driver-written ring state throws {@link VirtqueueError}
 * (and only that) when the driver broke the ring; the caller (core) then sets
 * DEVICE_NEEDS_RESET. No method reads or writes outside guest memory.
 */
export interface DeviceQueue {
  readonly size: number;
  readonly packed: boolean;
  /** The next available chain, or null when none is available. @throws VirtqueueError */
  pop(): DescriptorChain | null;
  /**
   * Returns a chain to the driver: a used element with the chain's id and `written`, the
   * number of bytes the device wrote into its writable segments. Chains may be pushed in any
   * order unless VIRTIO_F_IN_ORDER was negotiated. The element is written to the ring at once
   * but the driver sees it only at the next needsNotification(). @throws VirtqueueError
   */
  push(chain: DescriptorChain, written: number): void;
  /**
   * Ends the batch of pushes since the last call: publishes them to the driver (all at once),
   * then returns whether the driver asked to be notified (used buffer notification), per the
   * flags or the VIRTIO_F_EVENT_IDX rule applied across the whole batch (vring_need_event with
   * old = the used index before the batch). Call it once after every batch of pushes.
   */
  needsNotification(): boolean;
  /**
   * Asks the driver for available buffer notifications. Returns true when buffers became
   * available meanwhile (the caller must pop again: the race-free re-check).
   */
  enableNotifications(): boolean;
  /** Tells the driver not to send available buffer notifications. */
  disableNotifications(): void;
  /** Number of chains popped but not yet pushed. */
  readonly inFlight: number;
}

/** A used buffer reaped by the driver side: the caller's token and the bytes the device wrote. */
export interface UsedBuffer<T> {
  readonly token: T;
  readonly len: number;
}

/**
 * The driver side of one virtqueue, over either layout. It owns the ring memory it laid out
 * (addresses in `config`) and tracks free descriptors.
 */
export interface DriverQueue<T = unknown> {
  readonly config: QueueConfig;
  /** Descriptors (split) or ring slots (packed) currently free. */
  readonly numFree: number;
  /**
   * Exposes a buffer: `out` segments are device-readable, `in` segments device-writable.
   * Uses an indirect table when asked or when it saves ring slots and INDIRECT_DESC is on.
   * @returns false when there is no room (nothing is changed).
   */
  add(out: readonly Segment[], inSegs: readonly Segment[], token: T, opts?: { indirect?: boolean }): boolean;
  /** Makes added buffers visible to the device; returns whether the device must be notified. */
  kick(): boolean;
  /** The next used buffer, or null. Frees its descriptors. */
  reap(): UsedBuffer<T> | null;
  /** Asks for used buffer notifications; returns true when used buffers arrived meanwhile. */
  enableInterrupts(): boolean;
  disableInterrupts(): void;
}

/** Hands out guest memory to the driver side (rings, indirect tables). Addresses are guest-physical. */
export interface GuestAllocator {
  /** @returns the address of `len` bytes aligned to `align` (a power of two). @throws Error when exhausted */
  alloc(len: number, align: number): number;
  free(addr: number): void;
}

export type { GuestMemory };
