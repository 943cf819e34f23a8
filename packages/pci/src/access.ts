/**
 * How a driver reaches a PCI function: its configuration space and its BARs. Offsets are
 * bytes from the start of the configuration space or of the BAR; widths are 1, 2 or 4 bytes;
 * values are little-endian unsigned numbers. {@link PciTransport} implements it directly, so a
 * driver can run against a device in the same process; a VMM or a guest binds it to real
 * configuration cycles and mapped BARs.
 */
export interface PciFunctionAccess {
  configRead(offset: number, width: 1 | 2 | 4): number;
  configWrite(offset: number, width: 1 | 2 | 4, value: number): void;
  barRead(bar: number, offset: number, width: 1 | 2 | 4): number;
  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void;
}
