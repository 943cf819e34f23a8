import { RESET_VALUE } from '../acpi/tables.js';
import type { BusDevice } from '../bus/io-bus.js';

/** SLEEP_CONTROL_REG bits (ACPI 6.5 section 4.8.3.7). */
export const SLP_EN = 0x20;
export const SLP_TYP_SHIFT = 2;
/** The SLP_TYP value the DSDT's \_S5 package gives for soft-off. */
export const S5_SLP_TYP = 5;

/**
 * The hardware-reduced ACPI fixed registers: offset 0 SLEEP_CONTROL_REG, offset 1
 * SLEEP_STATUS_REG (always 0: the VMM never wakes), offset 2 RESET_REG. Writing SLP_EN with
 * SLP_TYP = 5 (S5) calls `onPowerOff` (other sleep states are ignored); writing
 * RESET_VALUE to RESET_REG calls `onReset`.
 */
export class AcpiSleep implements BusDevice {
  readonly #onPowerOff: () => void;
  readonly #onReset: () => void;

  constructor(onPowerOff: () => void, onReset: () => void) {
    this.#onPowerOff = onPowerOff;
    this.#onReset = onReset;
  }

  read(_offset: number, _size: number): number {
    return 0;
  }

  write(offset: number, _size: number, value: number): void {
    if (offset === 0 && value & SLP_EN && ((value >> SLP_TYP_SHIFT) & 7) === S5_SLP_TYP) this.#onPowerOff();
    else if (offset === 2 && value === RESET_VALUE) this.#onReset();
  }
}
