/**
 * What stands behind the persistent memory: its size and the flush that makes completed writes
 * durable. The guest-visible bytes are mapped by the VMM (a shared memory region or a range of
 * guest memory); the device never copies them itself.
 */
export interface PmemBackend {
  /** Length of the persistent memory range, in bytes (> 0). */
  readonly size: number;
  /**
   * Makes every write to the range that completed before the call durable across device reset
   * and power failure ([pmem.dev.3]). Return (or resolve) on success; throw (or reject) on failure.
   */
  flush(): void | Promise<void>;
}
