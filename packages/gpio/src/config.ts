/**
 * The GPIO device configuration (spec 5.18.4, struct virtio_gpio_config) and the gpio-names
 * memory block returned by VIRTIO_GPIO_MSG_GET_LINE_NAMES (spec 5.18.6.1).
 */
import { VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE, VIRTIO_GPIO_CONFIG_NGPIO, VIRTIO_GPIO_CONFIG_SIZE } from './protocol.js';

/**
 * Encodes line names as the gpio-names block: for each line in order, its 7-bit ASCII name and
 * a zero byte, or a lone zero byte for a line without a name.
 * @returns an empty block when no line has a name (gpio_names_size 0, [gpio.dev.3])
 * @throws RangeError when a name is not 7-bit ASCII, contains NUL, is not unique ([gpio.dev.4])
 * or there are more names than lines
 */
export function encodeLineNames(ngpio: number, names: readonly (string | null | undefined)[] | undefined): Uint8Array {
  if (!names || names.every((n) => !n)) return new Uint8Array(0);
  if (names.length > ngpio) throw new RangeError(`gpio: ${names.length} names for ${ngpio} lines`);
  const seen = new Set<string>();
  let size = 0;
  for (let i = 0; i < ngpio; i++) {
    const name = names[i] ?? '';
    if (name) {
      if (!/^[\x01-\x7f]+$/.test(name)) throw new RangeError(`gpio: name of line ${i} is not 7-bit ASCII without NUL`);
      if (seen.has(name)) throw new RangeError(`gpio: name ${JSON.stringify(name)} is not unique`);
      seen.add(name);
    }
    size += name.length + 1;
  }
  const block = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < ngpio; i++) {
    const name = names[i] ?? '';
    for (let c = 0; c < name.length; c++) block[at++] = name.charCodeAt(c);
    block[at++] = 0;
  }
  return block;
}

/**
 * Decodes a gpio-names block into one entry per line (null where the line has no name).
 * Tolerates a hostile block: missing terminators and bytes past `ngpio` strings are ignored,
 * missing lines are null, bytes >= 0x80 are dropped from names.
 */
export function decodeLineNames(ngpio: number, block: Uint8Array): (string | null)[] {
  const out: (string | null)[] = [];
  let at = 0;
  for (let i = 0; i < ngpio; i++) {
    let name = '';
    while (at < block.length && block[at] !== 0) {
      if (block[at] < 0x80) name += String.fromCharCode(block[at]);
      at++;
    }
    at++;
    out.push(name === '' ? null : name);
  }
  return out;
}

/** The read-only configuration space: ngpio, padding (zero), gpio_names_size ([gpio.dev.2]). */
export class GpioConfigSpace {
  readonly #bytes = new Uint8Array(VIRTIO_GPIO_CONFIG_SIZE);
  readonly #view = new DataView(this.#bytes.buffer);

  constructor(ngpio: number, namesSize: number) {
    this.#view.setUint16(VIRTIO_GPIO_CONFIG_NGPIO, ngpio, true);
    this.#view.setUint32(VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE, namesSize, true);
  }

  /** Reads `width` bytes at `offset` (offset + width <= 8), little-endian. */
  read(offset: number, width: 1 | 2 | 4): number {
    const v = this.#view;
    return width === 1 ? v.getUint8(offset) : width === 2 ? v.getUint16(offset, true) : v.getUint32(offset, true);
  }
}
