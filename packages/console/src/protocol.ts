/**
 * The console device's numbers and structures (spec 5.3 "Console Device"), under the spec's names.
 */
import { VIRTIO_ID_CONSOLE } from '@virtio/core';

/** Device ID of the console device (spec 5.3.1). */
export const VIRTIO_CONSOLE_DEVICE_ID = VIRTIO_ID_CONSOLE;

// ---- Feature bits (spec 5.3.3), as bit numbers. ----
/** Configuration `cols` and `rows` are valid. */
export const VIRTIO_CONSOLE_F_SIZE = 0;
/** `max_nr_ports` is valid and the control virtqueues are used. */
export const VIRTIO_CONSOLE_F_MULTIPORT = 1;
/** `emerg_wr` is valid. */
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 2;

// ---- Control events (spec 5.3.6.2, struct virtio_console_control.event). ----
export const VIRTIO_CONSOLE_DEVICE_READY = 0;
export const VIRTIO_CONSOLE_DEVICE_ADD = 1;
export const VIRTIO_CONSOLE_DEVICE_REMOVE = 2;
export const VIRTIO_CONSOLE_PORT_READY = 3;
export const VIRTIO_CONSOLE_CONSOLE_PORT = 4;
export const VIRTIO_CONSOLE_RESIZE = 5;
export const VIRTIO_CONSOLE_PORT_OPEN = 6;
export const VIRTIO_CONSOLE_PORT_NAME = 7;

/** Size of struct virtio_console_control { le32 id; le16 event; le16 value; }, in bytes. */
export const VIRTIO_CONSOLE_CONTROL_SIZE = 8;
/** Size of struct virtio_console_resize { le16 cols; le16 rows; } following a RESIZE message, in bytes. */
export const VIRTIO_CONSOLE_RESIZE_SIZE = 4;

/** struct virtio_console_control, decoded. */
export interface ConsoleControl {
  /** Port number. */
  readonly id: number;
  /** One of VIRTIO_CONSOLE_DEVICE_READY ... VIRTIO_CONSOLE_PORT_NAME (anything, when guest- or device-written). */
  readonly event: number;
  readonly value: number;
}

// ---- Virtqueue indices (spec 5.3.2). ----
/** control receiveq: device-to-driver control messages. */
export const VIRTIO_CONSOLE_CONTROL_RECEIVEQ = 2;
/** control transmitq: driver-to-device control messages. */
export const VIRTIO_CONSOLE_CONTROL_TRANSMITQ = 3;

/** Index of receiveq(port): 0 for port 0, 2 + 2 * port for the others. */
export function receiveqIndex(port: number): number {
  return port === 0 ? 0 : 2 + 2 * port;
}

/** Index of transmitq(port): 1 for port 0, 3 + 2 * port for the others. */
export function transmitqIndex(port: number): number {
  return receiveqIndex(port) + 1;
}

/** Number of virtqueues: 2 without VIRTIO_CONSOLE_F_MULTIPORT, else 2 * (max_nr_ports + 1). */
export function consoleQueueCount(maxNrPorts: number | undefined): number {
  return maxNrPorts === undefined ? 2 : 2 * (maxNrPorts + 1);
}

/**
 * What queue `index` is for: a port's receiveq/transmitq, or a control queue.
 * Never fails: every index maps to something; callers bound `port` by max_nr_ports.
 */
export function queueRole(index: number): { readonly kind: 'receiveq' | 'transmitq'; readonly port: number } | { readonly kind: 'control' } {
  if (index === 0 || index === 1) return { kind: index === 0 ? 'receiveq' : 'transmitq', port: 0 };
  if (index === VIRTIO_CONSOLE_CONTROL_RECEIVEQ || index === VIRTIO_CONSOLE_CONTROL_TRANSMITQ) return { kind: 'control' };
  return { kind: index % 2 === 0 ? 'receiveq' : 'transmitq', port: (index >> 1) - 1 };
}
