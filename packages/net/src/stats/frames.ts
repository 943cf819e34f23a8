/** Frame counters of a network device, since it was created (never reset; wrap at 2^53). */
export interface NetStats {
  /** Frames placed in the driver's receive buffers. */
  rxFrames: number;
  /** Bytes of those frames (without struct virtio_net_hdr). */
  rxBytes: number;
  /** Received frames the filter (receive mode, MAC table, VLAN table) or a down link dropped. */
  rxFiltered: number;
  /**
   * Received frames that could not be delivered: malformed (shorter than an Ethernet header,
   * above the MTU), using an offload the driver did not negotiate, larger than a receive
   * buffer without VIRTIO_NET_F_MRG_RXBUF, or arriving while the device is not live.
   */
  rxErrors: number;
  /** Frames handed to the backend. */
  txFrames: number;
  /** Bytes of those frames (without the header). */
  txBytes: number;
  /** Transmit chains returned unsent: malformed header or an offload the driver did not negotiate. */
  txErrors: number;
}

export function newStats(): NetStats {
  return { rxFrames: 0, rxBytes: 0, rxFiltered: 0, rxErrors: 0, txFrames: 0, txBytes: 0, txErrors: 0 };
}
