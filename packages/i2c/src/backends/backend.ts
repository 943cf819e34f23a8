/** One segment of an I2C transfer, as the device hands it to the backend. */
export interface I2cMessage {
  /** Target address: 0..0x7f, or 0..0x3ff when `tenBit`. */
  readonly address: number;
  readonly tenBit: boolean;
  /** A read (VIRTIO_I2C_FLAGS_M_RD) or a write. */
  readonly read: boolean;
  /**
   * A write: the bytes to send (a copy, never guest memory). A read: the buffer to fill, whose
   * length is the number of bytes to read. Empty for a zero-length request (e.g. SMBus Quick).
   */
  readonly buf: Uint8Array;
}

/**
 * Where the I2C adapter's transfers go: a simulated bus, a host adapter, anything from JS.
 * A transfer is one group of requests chained with VIRTIO_I2C_FLAGS_FAIL_NEXT: the segments of
 * one I2C transaction (repeated START between them, STOP at the end).
 */
export interface I2cBackend {
  /**
   * Executes `messages` in order, stopping at the first that fails (e.g. not acknowledged).
   * @returns how many messages completed (0..messages.length), or a promise of it; a throw or
   * a rejection counts as 0
   */
  transfer(messages: readonly I2cMessage[]): number | Promise<number>;
}
