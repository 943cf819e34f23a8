/**
 * What the transport counts instead of throwing: accesses a driver made that the spec does
 * not define (odd widths, unaligned or out-of-range offsets, writes to read-only fields,
 * windows outside any structure). They are ignored (writes) or read as zero (reads).
 */
export interface PciCounters {
  /** Reads that returned zero because no field answers at that offset and width. */
  readonly ignoredReads: number;
  /** Writes that changed nothing because no writable field answers at that offset and width. */
  readonly ignoredWrites: number;
  /** MSI-X messages sent to the interrupt output. */
  readonly msiMessages: number;
  /** MSI-X vectors that became pending because they were masked when they fired. */
  readonly msiPending: number;
}

/** The mutable form the transport's parts share. */
export class MutableCounters implements PciCounters {
  ignoredReads = 0;
  ignoredWrites = 0;
  msiMessages = 0;
  msiPending = 0;
}
