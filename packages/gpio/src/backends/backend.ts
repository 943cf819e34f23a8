import type { GpioDirection, GpioLevel } from '../protocol.js';

/** Called by a backend when the level sensed on `line` changed. */
export type GpioLevelListener = (line: number, level: GpioLevel) => void;

/**
 * The GPIO lines behind a {@link GpioDevice}: real pins, a simulation, anything from JS.
 * Lines are numbered 0..ngpio-1; the device validates line numbers before calling. A method
 * that throws makes the device answer the request with VIRTIO_GPIO_STATUS_ERR.
 */
export interface GpioBackend {
  /** Number of lines, 1..65535 (config field ngpio). */
  readonly ngpio: number;
  /** Optional line names, by line number (7-bit ASCII, unique); none means gpio_names_size 0. */
  readonly names?: readonly (string | null | undefined)[];
  /**
   * Configures a line: VIRTIO_GPIO_DIRECTION_OUT drives `value`, _IN senses, _NONE deactivates.
   * Also called with _NONE for every active line at device reset.
   */
  setDirection(line: number, direction: GpioDirection, value: GpioLevel): void;
  /** The level currently sensed on the line (for an output line, the level it drives). */
  getValue(line: number): GpioLevel;
  /** Drives an output line to `value` (called only for lines configured for output). */
  setValue(line: number, value: GpioLevel): void;
  /**
   * Registers the device's listener for level changes on any line (interrupt sensing); the
   * listener may be called at any time, also synchronously from the other methods.
   * @returns a function that removes the listener
   */
  watch(listener: GpioLevelListener): () => void;
}
