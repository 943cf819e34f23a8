import type { BusDevice } from '../bus/io-bus.js';

/** The i8042 command that pulses the CPU reset line. */
export const I8042_RESET_COMMAND = 0xfe;

/**
 * A minimal i8042 keyboard controller at ports 0x60 (offset 0, data) and 0x64 (offset 4,
 * status/command): no keyboard, an empty output buffer, status 0 (so Linux's reboot path
 * sees the input buffer empty), and command 0xFE calls `onReset` (Linux's "reboot=k").
 */
export class I8042 implements BusDevice {
  readonly #onReset: () => void;

  constructor(onReset: () => void) {
    this.#onReset = onReset;
  }

  read(_offset: number, _size: number): number {
    return 0;
  }

  write(offset: number, size: number, value: number): void {
    if (offset === 4 && size === 1 && value === I8042_RESET_COMMAND) this.#onReset();
  }
}
