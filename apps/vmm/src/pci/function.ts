/** A memory BAR a PCI function exposes: register `index` (0-5), size in bytes (a power of two). */
export interface PciBar {
  readonly index: number;
  readonly size: number;
  /** A 64-bit BAR occupies registers index and index + 1. */
  readonly is64: boolean;
}

/** What the bus gives a function: its interrupts. */
export interface PciFunctionContext {
  /** The GSI its INTA pin routes to (also written to the Interrupt Line register). */
  readonly intxGsi: number;
  /** Drives INTx (level, asserted = true). */
  setIntx(asserted: boolean): void;
  /** Delivers an MSI/MSI-X message: `address` guest-physical (0xFEExxxxx), `data` 32 bits. */
  signalMsi(address: number, data: number): void;
}

/**
 * A PCI function as the VMM's bus sees it (@virtio/pci's device-side transport plugs in
 * here). Config space accesses are 1, 2 or 4 bytes at `offset` 0-4095 (values unsigned);
 * the function owns its BAR registers (including sizing by writing all ones). BAR accesses
 * are relative to the BAR's start. None of these may throw on guest input.
 */
export interface PciFunction {
  configRead(offset: number, width: number): number;
  configWrite(offset: number, width: number, value: number): void;
  readonly bars: readonly PciBar[];
  barRead(index: number, offset: number, width: number): number;
  barWrite(index: number, offset: number, width: number, value: number): void;
  /** Called once when the function is plugged into a slot. */
  attach?(ctx: PciFunctionContext): void;
}
