/** A requestq chain the device cannot even answer: no device-writable byte for struct virtio_spi_transfer_result. */
export class SpiRequestError extends Error {
  override readonly name = 'SpiRequestError';
  readonly code = 'no-result-byte' as const;
}
