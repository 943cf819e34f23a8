import {
  VIRTIO_GPIO_DIRECTION_NONE,
  VIRTIO_GPIO_DIRECTION_OUT,
  type GpioDirection,
  type GpioLevel,
} from '../protocol.js';
import type { GpioBackend, GpioLevelListener } from './backend.js';

export interface SimulatedGpioOptions {
  /** Number of lines, 1..65535. */
  readonly ngpio: number;
  /** Optional line names by line number. */
  readonly names?: readonly (string | null | undefined)[];
  /** Initial external input level per line (default all low). */
  readonly inputs?: readonly GpioLevel[];
}

/**
 * In-memory GPIO lines: the host drives the external level of any line with {@link setInput}
 * and observes what the guest drives with {@link output}. A line configured for output senses
 * the level it drives; any other line senses its external level.
 */
export class SimulatedGpioLines implements GpioBackend {
  readonly ngpio: number;
  readonly names: readonly (string | null | undefined)[] | undefined;
  readonly #external: Uint8Array;
  readonly #driven: Uint8Array;
  readonly #direction: Uint8Array;
  readonly #listeners = new Set<GpioLevelListener>();

  /** @throws RangeError for ngpio outside 1..65535 */
  constructor(opts: SimulatedGpioOptions) {
    const n = opts.ngpio;
    if (!Number.isInteger(n) || n < 1 || n > 0xffff) throw new RangeError(`gpio: ngpio ${n} outside 1..65535`);
    this.ngpio = n;
    this.names = opts.names;
    this.#external = new Uint8Array(n);
    this.#driven = new Uint8Array(n);
    this.#direction = new Uint8Array(n);
    opts.inputs?.forEach((level, i) => {
      if (i < n) this.#external[i] = level ? 1 : 0;
    });
  }

  /**
   * Sets the external level of `line` (a button, a sensor); listeners hear of the change when
   * the line is not driving an output.
   * @throws RangeError for a line outside 0..ngpio-1
   */
  setInput(line: number, level: GpioLevel): void {
    this.#check(line);
    const before = this.getValue(line);
    this.#external[line] = level ? 1 : 0;
    this.#changed(line, before);
  }

  /** The level the guest drives on `line`, or undefined when the line is not an output. @throws RangeError for a bad line */
  output(line: number): GpioLevel | undefined {
    this.#check(line);
    return this.#direction[line] === VIRTIO_GPIO_DIRECTION_OUT ? (this.#driven[line] as GpioLevel) : undefined;
  }

  /** The direction the guest configured for `line`. @throws RangeError for a bad line */
  direction(line: number): GpioDirection {
    this.#check(line);
    return this.#direction[line] as GpioDirection;
  }

  setDirection(line: number, direction: GpioDirection, value: GpioLevel): void {
    const before = this.getValue(line);
    this.#direction[line] = direction;
    this.#driven[line] = direction === VIRTIO_GPIO_DIRECTION_NONE ? 0 : value;
    this.#changed(line, before);
  }

  getValue(line: number): GpioLevel {
    return (this.#direction[line] === VIRTIO_GPIO_DIRECTION_OUT ? this.#driven[line] : this.#external[line]) as GpioLevel;
  }

  setValue(line: number, value: GpioLevel): void {
    const before = this.getValue(line);
    this.#driven[line] = value;
    this.#changed(line, before);
  }

  watch(listener: GpioLevelListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(line: number, before: GpioLevel): void {
    const now = this.getValue(line);
    if (now !== before) for (const l of this.#listeners) l(line, now);
  }

  #check(line: number): void {
    if (!Number.isInteger(line) || line < 0 || line >= this.ngpio) throw new RangeError(`gpio: line ${line} outside 0..${this.ngpio - 1}`);
  }
}
