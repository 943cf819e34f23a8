/**
 * struct virtio_balloon_config (spec 5.5.4): four le32 fields. num_pages and
 * free_page_hint_cmd_id are set by the device (driver writes ignored); actual and poison_val
 * are written by the driver (poison_val only before DRIVER_OK).
 */
import { BALLOON_CONFIG_ACTUAL, BALLOON_CONFIG_POISON_VAL, BALLOON_CONFIG_SIZE } from './protocol.js';

export class BalloonConfig {
  readonly size = BALLOON_CONFIG_SIZE;
  /** The four fields, in layout order, as little-endian bytes. */
  readonly #bytes = new Uint8Array(BALLOON_CONFIG_SIZE);
  readonly #view = new DataView(this.#bytes.buffer);

  get numPages(): number {
    return this.#view.getUint32(0, true);
  }
  set numPages(v: number) {
    this.#view.setUint32(0, v, true);
  }
  get actual(): number {
    return this.#view.getUint32(BALLOON_CONFIG_ACTUAL, true);
  }
  get freePageHintCmdId(): number {
    return this.#view.getUint32(8, true);
  }
  set freePageHintCmdId(v: number) {
    this.#view.setUint32(8, v, true);
  }
  get poisonVal(): number {
    return this.#view.getUint32(BALLOON_CONFIG_POISON_VAL, true);
  }

  /** Reads `width` bytes at `offset` (offset + width <= size, checked by the transport). */
  read(offset: number, width: 1 | 2 | 4): number {
    if (width === 1) return this.#view.getUint8(offset);
    if (width === 2) return this.#view.getUint16(offset, true);
    return this.#view.getUint32(offset, true);
  }

  /** A driver write: bytes inside actual, or inside poison_val while not `live`, change; others are ignored. */
  write(offset: number, width: 1 | 2 | 4, value: number, live: boolean): void {
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      const writable = (at >= BALLOON_CONFIG_ACTUAL && at < BALLOON_CONFIG_ACTUAL + 4) || (!live && at >= BALLOON_CONFIG_POISON_VAL);
      if (writable) this.#bytes[at] = (value >>> (8 * i)) & 0xff;
    }
  }

  /** Device reset: the driver-written fields return to 0; num_pages and the command ID are the host's and stay. */
  resetDriverFields(): void {
    this.#view.setUint32(BALLOON_CONFIG_ACTUAL, 0, true);
    this.#view.setUint32(BALLOON_CONFIG_POISON_VAL, 0, true);
  }
}
