import { COMMAND_MEMORY, COMMAND_IO, COMMAND_MASTER, ConfigSpace, PCI_CFG } from './config-space.js';
import type { PciFunction } from './function.js';

/** IDs of the host bridge at 00:00.0 (Red Hat's "QEMU PCIe host bridge", class 06:00:00). */
export const HOST_BRIDGE_VENDOR = 0x1b36;
export const HOST_BRIDGE_DEVICE = 0x0008;

/** The host bridge function at 00:00.0: no BARs, command register writable, class 0x060000. */
export class HostBridge implements PciFunction {
  readonly bars = [];
  readonly #cfg = new ConfigSpace();

  constructor() {
    const c = this.#cfg;
    c.set(PCI_CFG.VENDOR_ID, 2, HOST_BRIDGE_VENDOR);
    c.set(PCI_CFG.DEVICE_ID, 2, HOST_BRIDGE_DEVICE);
    c.set(PCI_CFG.CLASS_PROG, 3, 0x060000);
    c.set(PCI_CFG.HEADER_TYPE, 1, 0);
    c.writable[PCI_CFG.COMMAND] = COMMAND_IO | COMMAND_MEMORY | COMMAND_MASTER;
  }

  configRead(offset: number, width: number): number {
    return this.#cfg.read(offset, width);
  }

  configWrite(offset: number, width: number, value: number): void {
    this.#cfg.write(offset, width, value);
  }

  barRead(): number {
    return 0xffffffff;
  }

  barWrite(): void {}
}
