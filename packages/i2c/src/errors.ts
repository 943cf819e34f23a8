/** A requestq chain the device cannot even answer: no device-writable byte for struct virtio_i2c_in_hdr. */
export class I2cRequestError extends Error {
  override readonly name = 'I2cRequestError';
  readonly code = 'no-status-byte' as const;
}
