/**
 * The input device configuration (spec 5.8.4, struct virtio_input_config): the driver writes
 * select and subsel, the device answers with size and the union u. Answers are encoded once
 * per (select, subsel) write, so reads cost an array access.
 */
import type { InputDeviceDescription } from './description.js';
import {
  VIRTIO_INPUT_CFG_ABS_INFO,
  VIRTIO_INPUT_CFG_EV_BITS,
  VIRTIO_INPUT_CFG_ID_DEVIDS,
  VIRTIO_INPUT_CFG_ID_NAME,
  VIRTIO_INPUT_CFG_ID_SERIAL,
  VIRTIO_INPUT_CFG_PROP_BITS,
  VIRTIO_INPUT_CONFIG_BYTES,
  VIRTIO_INPUT_CONFIG_SELECT,
  VIRTIO_INPUT_CONFIG_SIZE,
  VIRTIO_INPUT_CONFIG_SUBSEL,
  VIRTIO_INPUT_CONFIG_U,
  VIRTIO_INPUT_CONFIG_U_SIZE,
} from './protocol.js';

/** Bits a bitmap answer can hold (128 bytes). */
const BITMAP_BITS = VIRTIO_INPUT_CONFIG_U_SIZE * 8;

/** @throws RangeError when a description does not fit the configuration layout */
export function validateDescription(d: InputDeviceDescription): void {
  const enc = new TextEncoder();
  for (const [what, s] of [['name', d.name], ['serial', d.serial ?? '']] as const) {
    if (enc.encode(s).length > VIRTIO_INPUT_CONFIG_U_SIZE) throw new RangeError(`input: ${what} longer than 128 bytes`);
  }
  const u16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (d.ids && !(u16(d.ids.bustype) && u16(d.ids.vendor) && u16(d.ids.product) && u16(d.ids.version))) {
    throw new RangeError('input: devids fields must be 0..0xffff');
  }
  const bit = (n: number) => Number.isInteger(n) && n >= 0 && n < BITMAP_BITS;
  const sub = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xff;
  if (!(d.properties ?? []).every(bit)) throw new RangeError('input: property numbers must be 0..1023');
  for (const [type, codes] of d.events) {
    if (!sub(type) || !codes.every(bit)) throw new RangeError(`input: event type ${type} or its codes out of range`);
  }
  const s32 = (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31;
  for (const [axis, a] of d.absInfo ?? []) {
    if (!sub(axis) || ![a.min, a.max, a.fuzz, a.flat, a.res].every(s32)) throw new RangeError(`input: absinfo of axis ${axis} out of range`);
  }
}

export class InputConfigSpace {
  /** struct virtio_input_config as the driver reads it. */
  readonly #bytes = new Uint8Array(VIRTIO_INPUT_CONFIG_BYTES);
  readonly #view = new DataView(this.#bytes.buffer);
  readonly #d: InputDeviceDescription;
  readonly #enc = new TextEncoder();

  /** @throws RangeError from {@link validateDescription} */
  constructor(description: InputDeviceDescription) {
    validateDescription(description);
    this.#d = description;
  }

  get select(): number {
    return this.#bytes[VIRTIO_INPUT_CONFIG_SELECT];
  }
  get subsel(): number {
    return this.#bytes[VIRTIO_INPUT_CONFIG_SUBSEL];
  }

  /** Reads `width` bytes at `offset` (offset + width <= 136), little-endian. */
  read(offset: number, width: 1 | 2 | 4): number {
    const v = this.#view;
    return width === 1 ? v.getUint8(offset) : width === 2 ? v.getUint16(offset, true) : v.getUint32(offset, true);
  }

  /** Writes select and/or subsel; bytes of any other field are ignored (they are read-only). */
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    let touched = false;
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      if (at === VIRTIO_INPUT_CONFIG_SELECT || at === VIRTIO_INPUT_CONFIG_SUBSEL) {
        this.#bytes[at] = (value >>> (8 * i)) & 0xff;
        touched = true;
      }
    }
    if (touched) this.#answer();
  }

  /** Device reset: select and subsel back to 0 (VIRTIO_INPUT_CFG_UNSET, size 0). */
  reset(): void {
    this.#bytes.fill(0);
  }

  /** Fills size and u for the current (select, subsel); size 0 when unsupported ([input.dev.1]). */
  #answer(): void {
    const b = this.#bytes;
    b.fill(0, VIRTIO_INPUT_CONFIG_SIZE);
    const d = this.#d;
    const sub = this.subsel;
    let size = 0;
    switch (this.select) {
      case VIRTIO_INPUT_CFG_ID_NAME:
        if (sub === 0) size = this.#string(d.name);
        break;
      case VIRTIO_INPUT_CFG_ID_SERIAL:
        if (sub === 0) size = this.#string(d.serial ?? '');
        break;
      case VIRTIO_INPUT_CFG_ID_DEVIDS:
        if (sub === 0 && d.ids) {
          const v = this.#view;
          v.setUint16(VIRTIO_INPUT_CONFIG_U, d.ids.bustype, true);
          v.setUint16(VIRTIO_INPUT_CONFIG_U + 2, d.ids.vendor, true);
          v.setUint16(VIRTIO_INPUT_CONFIG_U + 4, d.ids.product, true);
          v.setUint16(VIRTIO_INPUT_CONFIG_U + 6, d.ids.version, true);
          size = 8;
        }
        break;
      case VIRTIO_INPUT_CFG_PROP_BITS:
        if (sub === 0 && d.properties && d.properties.length > 0) size = this.#bitmap(d.properties, false);
        break;
      case VIRTIO_INPUT_CFG_EV_BITS: {
        const codes = d.events.get(sub);
        if (codes) size = this.#bitmap(codes, true);
        break;
      }
      case VIRTIO_INPUT_CFG_ABS_INFO: {
        const a = d.absInfo?.get(sub);
        if (a) {
          const v = this.#view;
          [a.min, a.max, a.fuzz, a.flat, a.res].forEach((x, i) => v.setInt32(VIRTIO_INPUT_CONFIG_U + 4 * i, x, true));
          size = 20;
        }
        break;
      }
    }
    b[VIRTIO_INPUT_CONFIG_SIZE] = size;
  }

  #string(s: string): number {
    return this.#enc.encodeInto(s, this.#bytes.subarray(VIRTIO_INPUT_CONFIG_U)).written;
  }

  /** Sets the bits; returns the bytes up to the highest set one (at least 1 when `present`). */
  #bitmap(bits: readonly number[], present: boolean): number {
    let size = present ? 1 : 0;
    for (const bit of bits) {
      this.#bytes[VIRTIO_INPUT_CONFIG_U + (bit >>> 3)] |= 1 << (bit & 7);
      size = Math.max(size, (bit >>> 3) + 1);
    }
    return size;
  }
}
