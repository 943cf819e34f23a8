/**
 * The ISR status byte (spec 4.1.4.5) and the INT#x line it drives. Bit 0 is the Queue
 * Interrupt, bit 1 the Device Configuration Interrupt. A driver read returns the byte and
 * clears it, de-asserting the interrupt. The line is the OR of the ISR bits, unless MSI-X
 * is enabled or the command register's Interrupt Disable bit is set.
 */
export class IsrStatus {
  #value = 0;
  #line = false;
  #suppressed = false;
  readonly #drive: (asserted: boolean) => void;

  /** `drive` is called with the new INT#x level each time it changes. */
  constructor(drive: (asserted: boolean) => void) {
    this.#drive = drive;
  }

  /** The ISR bits without the read side effect (for the PCI Status register's Interrupt Status bit). */
  get value(): number {
    return this.#value;
  }

  /** Whether INT#x is currently asserted. */
  get asserted(): boolean {
    return this.#line;
  }

  /** Sets ISR bits (VIRTIO_PCI_ISR_QUEUE / VIRTIO_PCI_ISR_CONFIG) and updates the line. */
  raise(bits: number): void {
    this.#value |= bits;
    this.#update();
  }

  /** A driver read: returns the byte and resets it to 0 (spec 4.1.4.5.1). */
  readAndClear(): number {
    const v = this.#value;
    this.#value = 0;
    this.#update();
    return v;
  }

  /** Whether INT#x must stay de-asserted (MSI-X enabled, or Interrupt Disable set). */
  suppress(suppressed: boolean): void {
    this.#suppressed = suppressed;
    this.#update();
  }

  /** Device reset: clears the byte and de-asserts the line. */
  reset(): void {
    this.#value = 0;
    this.#update();
  }

  #update(): void {
    const line = this.#value !== 0 && !this.#suppressed;
    if (line !== this.#line) {
      this.#line = line;
      this.#drive(line);
    }
  }
}
