/**
 * The input device's structures and constants (spec 5.8 "Input Device"). It has no feature
 * bits (spec 5.8.3).
 */
import { VIRTIO_ID_INPUT } from '@virtio/core';

/** Device ID of the input device (spec 5.8.1). */
export const VIRTIO_INPUT_DEVICE_ID = VIRTIO_ID_INPUT;
/** Virtqueue indices (spec 5.8.2). */
export const VIRTIO_INPUT_EVENTQ = 0;
export const VIRTIO_INPUT_STATUSQ = 1;

/** enum virtio_input_config_select (spec 5.8.4). */
export const VIRTIO_INPUT_CFG_UNSET = 0x00;
export const VIRTIO_INPUT_CFG_ID_NAME = 0x01;
export const VIRTIO_INPUT_CFG_ID_SERIAL = 0x02;
export const VIRTIO_INPUT_CFG_ID_DEVIDS = 0x03;
export const VIRTIO_INPUT_CFG_PROP_BITS = 0x10;
export const VIRTIO_INPUT_CFG_EV_BITS = 0x11;
export const VIRTIO_INPUT_CFG_ABS_INFO = 0x12;

/** Offsets in struct virtio_input_config, in bytes. */
export const VIRTIO_INPUT_CONFIG_SELECT = 0;
export const VIRTIO_INPUT_CONFIG_SUBSEL = 1;
export const VIRTIO_INPUT_CONFIG_SIZE = 2;
export const VIRTIO_INPUT_CONFIG_U = 8;
/** Size of the union u (string, bitmap, absinfo, devids), in bytes. */
export const VIRTIO_INPUT_CONFIG_U_SIZE = 128;
/** Size of struct virtio_input_config, in bytes. */
export const VIRTIO_INPUT_CONFIG_BYTES = VIRTIO_INPUT_CONFIG_U + VIRTIO_INPUT_CONFIG_U_SIZE;

/** Size of struct virtio_input_event { le16 type; le16 code; le32 value; }, in bytes. */
export const VIRTIO_INPUT_EVENT_SIZE = 8;

/** struct virtio_input_event (spec 5.8.6): evdev's type, code and value (value signed). */
export interface InputEvent {
  /** EV_* type, 0..0xffff. */
  readonly type: number;
  /** Event code, 0..0xffff. */
  readonly code: number;
  /** Value, a signed 32-bit integer (evdev's __s32). */
  readonly value: number;
}

/** struct virtio_input_absinfo (spec 5.8.4): an absolute axis; fields are signed 32-bit as in evdev. */
export interface AbsInfo {
  readonly min: number;
  readonly max: number;
  readonly fuzz: number;
  readonly flat: number;
  /** Resolution, units per millimetre. */
  readonly res: number;
}

/** struct virtio_input_devids (spec 5.8.4): EVIOCGID's identifiers, each 0..0xffff. */
export interface InputDevIds {
  readonly bustype: number;
  readonly vendor: number;
  readonly product: number;
  readonly version: number;
}
