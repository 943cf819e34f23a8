/**
 * The I2C adapter device's numbers and structures (spec 5.16 "I2C Adapter Device"), under the
 * spec's names. It has no device configuration (spec 5.16.4).
 */
import { VIRTIO_ID_I2C_ADAPTER } from '@virtio/core';

/** Device ID of the I2C adapter device (spec 5.16.1). */
export const VIRTIO_I2C_DEVICE_ID = VIRTIO_ID_I2C_ADAPTER;
/** Index of the only virtqueue, requestq (spec 5.16.2). */
export const VIRTIO_I2C_REQUESTQ = 0;

/** Feature bit: zero-length requests and VIRTIO_I2C_FLAGS_M_RD; mandatory for both sides (spec 5.16.3). */
export const VIRTIO_I2C_F_ZERO_LENGTH_REQUEST = 0;

/** struct virtio_i2c_out_hdr { le16 addr; le16 padding; le32 flags; }, in bytes. */
export const VIRTIO_I2C_OUT_HDR_SIZE = 8;
/** struct virtio_i2c_in_hdr { u8 status; }, in bytes. */
export const VIRTIO_I2C_IN_HDR_SIZE = 1;

/** Flag bit numbers of virtio_i2c_out_hdr.flags (spec 5.16.6.1). */
export const VIRTIO_I2C_FLAGS_FAIL_NEXT = 0;
export const VIRTIO_I2C_FLAGS_M_RD = 1;
/** The flags bits defined so far; the others are reserved (zero). */
export const VIRTIO_I2C_FLAGS_DEFINED = (1 << VIRTIO_I2C_FLAGS_FAIL_NEXT) | (1 << VIRTIO_I2C_FLAGS_M_RD);

/** in_hdr.status values (spec 5.16.6.1). */
export const VIRTIO_I2C_MSG_OK = 0;
export const VIRTIO_I2C_MSG_ERR = 1;

/** Longest buf of one request the device accepts by default, in bytes (Linux struct i2c_msg has a 16-bit len). */
export const I2C_DEFAULT_MAX_SEGMENT = 0xffff;
