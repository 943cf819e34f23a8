import type { SpiTransferHead } from '../transfer.js';

/** One SPI transfer, validated, as the device hands it to the backend. */
export interface SpiTransfer {
  /** The transfer parameters from the driver (valid for the controller's configuration). */
  readonly head: SpiTransferHead;
  /** Bytes to send (a copy, never guest memory); empty for a half-duplex read. */
  readonly tx: Uint8Array;
  /** The buffer to fill with received bytes; empty for a half-duplex write. Same length as `tx` when both are present. */
  readonly rx: Uint8Array;
}

/** Where the SPI controller's transfers go: a simulated bus, a host controller, anything from JS. */
export interface SpiBackend {
  /**
   * Performs one transfer (transfers arrive one at a time, in ring order).
   * @returns true on success, false for VIRTIO_SPI_TRANS_ERR, or a promise of either; a throw or
   * a rejection counts as VIRTIO_SPI_TRANS_ERR
   */
  transfer(t: SpiTransfer): boolean | Promise<boolean>;
}
