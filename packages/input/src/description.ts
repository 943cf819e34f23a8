/**
 * What an input device is (spec 5.8.4): the answers of its configuration query space, and
 * ready-made keyboard, mouse and tablet descriptions using Linux input event codes.
 */
import {
  ABS_X,
  ABS_Y,
  BTN_EXTRA,
  BTN_LEFT,
  BTN_MIDDLE,
  BTN_RIGHT,
  BTN_SIDE,
  BTN_TOUCH,
  BUS_VIRTUAL,
  EV_ABS,
  EV_KEY,
  EV_LED,
  EV_REL,
  EV_REP,
  INPUT_PROP_DIRECT,
  INPUT_PROP_POINTER,
  KEY_MAX_PC,
  LED_CAPSL,
  LED_NUML,
  LED_SCROLLL,
  REL_HWHEEL,
  REL_WHEEL,
  REL_X,
  REL_Y,
} from './event-codes.js';
import type { AbsInfo, InputDevIds } from './protocol.js';

/** Everything the driver can query from the device configuration. */
export interface InputDeviceDescription {
  /** VIRTIO_INPUT_CFG_ID_NAME; at most 128 bytes of UTF-8. */
  readonly name: string;
  /** VIRTIO_INPUT_CFG_ID_SERIAL; at most 128 bytes of UTF-8; empty = not supported (size 0). */
  readonly serial?: string;
  /** VIRTIO_INPUT_CFG_ID_DEVIDS; absent = not supported (size 0). */
  readonly ids?: InputDevIds;
  /** VIRTIO_INPUT_CFG_PROP_BITS: INPUT_PROP_* numbers (0..1023). */
  readonly properties?: readonly number[];
  /**
   * VIRTIO_INPUT_CFG_EV_BITS: per EV_* type (0..255), the supported codes (0..1023). A type
   * listed with no codes (e.g. EV_REP) is still supported: its size is 1, its bitmap empty.
   * EV_SYN need not be listed (every evdev device has it).
   */
  readonly events: ReadonlyMap<number, readonly number[]>;
  /** VIRTIO_INPUT_CFG_ABS_INFO: per ABS_* axis (0..255). */
  readonly absInfo?: ReadonlyMap<number, AbsInfo>;
}

/** Identifiers used by the ready-made descriptions: BUS_VIRTUAL with the virtio vendor ID 0x1af4. */
const ids = (product: number): InputDevIds => ({ bustype: BUS_VIRTUAL, vendor: 0x1af4, product, version: 1 });

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A PC keyboard: keys 1..127, LEDs NUML/CAPSL/SCROLLL (driver feedback on the statusq), autorepeat. */
export function keyboardDescription(name = 'virtio-ts keyboard'): InputDeviceDescription {
  return {
    name,
    serial: 'virtio-ts-kbd',
    ids: ids(0x0001),
    events: new Map<number, number[]>([
      [EV_KEY, range(1, KEY_MAX_PC)],
      [EV_LED, [LED_NUML, LED_CAPSL, LED_SCROLLL]],
      [EV_REP, []],
    ]),
  };
}

/** A relative pointer: left/right/middle/side/extra buttons, X/Y motion, vertical and horizontal wheels. */
export function mouseDescription(name = 'virtio-ts mouse'): InputDeviceDescription {
  return {
    name,
    serial: 'virtio-ts-mouse',
    ids: ids(0x0002),
    properties: [INPUT_PROP_POINTER],
    events: new Map<number, number[]>([
      [EV_KEY, [BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA]],
      [EV_REL, [REL_X, REL_Y, REL_HWHEEL, REL_WHEEL]],
    ]),
  };
}

/**
 * An absolute pointer (touch screen / tablet) with axes 0..width-1 and 0..height-1 and
 * left/right/middle buttons plus BTN_TOUCH.
 * @throws RangeError when width or height is not an integer in 1..2^31
 */
export function tabletDescription(width = 32768, height = 32768, name = 'virtio-ts tablet'): InputDeviceDescription {
  for (const n of [width, height]) {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 31) throw new RangeError(`input: tablet axis extent ${n} outside 1..2^31`);
  }
  return {
    name,
    serial: 'virtio-ts-tablet',
    ids: ids(0x0003),
    properties: [INPUT_PROP_DIRECT],
    events: new Map<number, number[]>([
      [EV_KEY, [BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_TOUCH]],
      [EV_ABS, [ABS_X, ABS_Y]],
    ]),
    absInfo: new Map<number, AbsInfo>([
      [ABS_X, { min: 0, max: width - 1, fuzz: 0, flat: 0, res: 0 }],
      [ABS_Y, { min: 0, max: height - 1, fuzz: 0, flat: 0, res: 0 }],
    ]),
  };
}
