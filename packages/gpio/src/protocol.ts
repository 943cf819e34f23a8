/**
 * The GPIO device's numbers and structures (spec 5.18 "GPIO Device"), under the spec's names.
 */
import { VIRTIO_ID_GPIO } from '@virtio/core';

/** Device ID of the GPIO device (spec 5.18.1). */
export const VIRTIO_GPIO_DEVICE_ID = VIRTIO_ID_GPIO;
/** Index of the requestq (spec 5.18.2). */
export const VIRTIO_GPIO_REQUESTQ = 0;
/** Index of the eventq, present only with VIRTIO_GPIO_F_IRQ (spec 5.18.2). */
export const VIRTIO_GPIO_EVENTQ = 1;

/** Feature bit: the device supports interrupts on GPIO lines (spec 5.18.3). */
export const VIRTIO_GPIO_F_IRQ = 0;

/** struct virtio_gpio_config: byte offsets and size (spec 5.18.4). */
export const VIRTIO_GPIO_CONFIG_NGPIO = 0;
export const VIRTIO_GPIO_CONFIG_PADDING = 2;
export const VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE = 4;
export const VIRTIO_GPIO_CONFIG_SIZE = 8;

/** struct virtio_gpio_request { le16 type; le16 gpio; le32 value; }, in bytes. */
export const VIRTIO_GPIO_REQUEST_SIZE = 8;
/** struct virtio_gpio_response { u8 status; u8 value; }, in bytes. */
export const VIRTIO_GPIO_RESPONSE_SIZE = 2;
/** struct virtio_gpio_irq_request { le16 gpio; }, in bytes. */
export const VIRTIO_GPIO_IRQ_REQUEST_SIZE = 2;
/** struct virtio_gpio_irq_response { u8 status; }, in bytes. */
export const VIRTIO_GPIO_IRQ_RESPONSE_SIZE = 1;

/** Response status (spec 5.18.6). */
export const VIRTIO_GPIO_STATUS_OK = 0x0;
export const VIRTIO_GPIO_STATUS_ERR = 0x1;

/** Message types (spec 5.18.6). */
export const VIRTIO_GPIO_MSG_GET_LINE_NAMES = 0x0001;
export const VIRTIO_GPIO_MSG_GET_DIRECTION = 0x0002;
export const VIRTIO_GPIO_MSG_SET_DIRECTION = 0x0003;
export const VIRTIO_GPIO_MSG_GET_VALUE = 0x0004;
export const VIRTIO_GPIO_MSG_SET_VALUE = 0x0005;
export const VIRTIO_GPIO_MSG_SET_IRQ_TYPE = 0x0006;

/** Directions (spec 5.18.6). */
export const VIRTIO_GPIO_DIRECTION_NONE = 0x00;
export const VIRTIO_GPIO_DIRECTION_OUT = 0x01;
export const VIRTIO_GPIO_DIRECTION_IN = 0x02;

/** Interrupt trigger types (spec 5.18.6). */
export const VIRTIO_GPIO_IRQ_TYPE_NONE = 0x00;
export const VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING = 0x01;
export const VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING = 0x02;
export const VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH = 0x03;
export const VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH = 0x04;
export const VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW = 0x08;

/** Interrupt event status on the eventq (spec 5.18.7). */
export const VIRTIO_GPIO_IRQ_STATUS_INVALID = 0x0;
export const VIRTIO_GPIO_IRQ_STATUS_VALID = 0x1;

/** A line direction: VIRTIO_GPIO_DIRECTION_NONE, _OUT or _IN. */
export type GpioDirection = typeof VIRTIO_GPIO_DIRECTION_NONE | typeof VIRTIO_GPIO_DIRECTION_OUT | typeof VIRTIO_GPIO_DIRECTION_IN;

/** An interrupt trigger type: one of VIRTIO_GPIO_IRQ_TYPE_*. */
export type GpioIrqType =
  | typeof VIRTIO_GPIO_IRQ_TYPE_NONE
  | typeof VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING
  | typeof VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING
  | typeof VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH
  | typeof VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH
  | typeof VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW;

/** A logical line level: 0 = low, 1 = high. */
export type GpioLevel = 0 | 1;

/** Whether `n` is a valid direction value of SET_DIRECTION. */
export const isGpioDirection = (n: number): n is GpioDirection =>
  n === VIRTIO_GPIO_DIRECTION_NONE || n === VIRTIO_GPIO_DIRECTION_OUT || n === VIRTIO_GPIO_DIRECTION_IN;

/** Whether `n` is one of the VIRTIO_GPIO_IRQ_TYPE_* values. */
export const isGpioIrqType = (n: number): n is GpioIrqType =>
  n === VIRTIO_GPIO_IRQ_TYPE_NONE ||
  n === VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING ||
  n === VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING ||
  n === VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH ||
  n === VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH ||
  n === VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW;
