/** Thrown when an access falls outside guest memory. Carries the guest-physical address and length in bytes. */
export class GuestMemoryError extends Error {
  override readonly name = 'GuestMemoryError';
  constructor(
    readonly addr: number,
    readonly len: number,
    message = `guest memory access outside memory: [0x${addr.toString(16)}, +${len})`,
  ) {
    super(message);
  }
}

/**
 * What a driver broke in a virtqueue. Each code names one malformed-ring class of spec 2.7
 * (split) / 2.8 (packed); devices map any of them to DEVICE_NEEDS_RESET.
 */
export type VirtqueueErrorCode =
  /** A descriptor index (split) or buffer id (packed) at or above the queue size. */
  | 'descriptor-index-out-of-range'
  /** A chain longer than the queue size, or one that loops. */
  | 'chain-too-long'
  /** A device-readable descriptor after a device-writable one. */
  | 'readable-after-writable'
  /** An indirect table whose length is zero or not a multiple of 16. */
  | 'bad-indirect-length'
  /** VIRTQ_DESC_F_INDIRECT inside an indirect table. */
  | 'nested-indirect'
  /** VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT. */
  | 'indirect-with-next'
  /** VIRTQ_DESC_F_INDIRECT used although VIRTIO_F_INDIRECT_DESC was not negotiated. */
  | 'indirect-not-negotiated'
  /** A buffer, table or ring outside guest memory. */
  | 'address-out-of-range'
  /** The total length of a chain's readable or writable part is 2^32 bytes or more. */
  | 'length-overflow'
  /** The available index moved by more than the queue size. */
  | 'avail-index-jump'
  /** A queue size that is not allowed for the layout, or ring addresses that are misaligned. */
  | 'bad-queue-config'
  /** The device pushed a chain it never popped, or twice (a caller bug, reported not thrown out of the device). */
  | 'bad-used-id'
  /** The driver made a head descriptor available again while its chain was still in flight. */
  | 'head-in-flight'
  /** The device reported more bytes written than the chain's writable length (a caller bug). */
  | 'bad-used-len';

/** A malformed virtqueue, detected on the device side (or a device-side misuse). */
export class VirtqueueError extends Error {
  override readonly name = 'VirtqueueError';
  constructor(
    readonly code: VirtqueueErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * A read or write past the end of a chain's readable (ChainReader) or writable (ChainWriter)
 * segments. Devices map it to their request error status (the driver sent a short buffer).
 */
export class ChainBoundsError extends Error {
  override readonly name = 'ChainBoundsError';
  constructor(
    /** Bytes the access needed. */
    readonly requested: number,
    /** Bytes left in the segments. */
    readonly available: number,
  ) {
    super(`chain access of ${requested} bytes with ${available} bytes left`);
  }
}
