import type { AcpiOptions } from '../acpi/build.js';
import { SLEEP_CONTROL_PORT } from '../acpi/tables.js';
import { Bus } from '../bus/io-bus.js';
import { MmioSlots } from '../bus/mmio-slots.js';
import { IOAPIC_ADDR, LAPIC_ADDR, PCI_ECAM, PCI_MMIO_WINDOW, VIRTIO_MMIO_REGION } from '../boot/layout.js';
import { AcpiSleep } from '../devices/acpi-sleep.js';
import { Cmos } from '../devices/cmos.js';
import { DebugPort } from '../devices/debug-port.js';
import { I8042 } from '../devices/i8042.js';
import { Serial } from '../devices/serial.js';
import { PciBus, type PciInterrupts } from '../pci/bus.js';

/** COM1's ports and ISA IRQ. */
export const COM1 = { port: 0x3f8, irq: 4 } as const;
/** IOAPIC pins of virtio-mmio devices (edge, active high), in slot order. */
export const VIRTIO_MMIO_GSIS: readonly number[] = [5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];

/** PCI INTx swizzle: slot s, pin p (0 = INTA) -> GSI 20 + (s + p) mod 4 (level, active low per _PRT). */
export function pciIntxGsi(slot: number, pin: number): number {
  return 20 + ((slot + pin) % 4);
}

/** What the platform needs from the VMM around it. */
export interface PlatformHooks extends PciInterrupts {
  serialOutput(byte: number): void;
  powerOff(): void;
  reset(): void;
}

/**
 * The PC platform's device model, independent of KVM: the port I/O bus (COM1 16550A at
 * 0x3F8, CMOS/RTC 0x70-0x71, i8042 0x60/0x64, debug port 0x80, PCI config 0xCF8-0xCFF,
 * ACPI sleep and reset registers 0x600-0x602) and the MMIO bus (ECAM, the PCI BAR window, and the
 * virtio-mmio windows devices take through `mmioSlots`). The in-kernel irqchip and PIT are
 * not here (KVM emulates them).
 */
export class Platform {
  readonly pio = new Bus();
  readonly mmio = new Bus();
  readonly serial: Serial;
  readonly cmos = new Cmos();
  readonly debugPort = new DebugPort();
  readonly pci: PciBus;
  readonly mmioSlots = new MmioSlots(VIRTIO_MMIO_REGION, VIRTIO_MMIO_GSIS);

  constructor(hooks: PlatformHooks) {
    this.serial = new Serial({ output: (b) => hooks.serialOutput(b), irq: (level) => hooks.irqLine(COM1.irq, level) });
    this.pci = new PciBus({ mmioWindow: PCI_MMIO_WINDOW, intxGsi: pciIntxGsi, interrupts: hooks });
    this.pio.register(COM1.port, 8, this.serial, 'COM1');
    this.pio.register(0x70, 2, this.cmos, 'CMOS/RTC');
    this.pio.register(0x60, 5, new I8042(() => hooks.reset()), 'i8042');
    this.pio.register(0x80, 1, this.debugPort, 'debug port');
    this.pio.register(0xcf8, 8, this.pci.configPorts, 'PCI config');
    this.pio.register(SLEEP_CONTROL_PORT, 3, new AcpiSleep(() => hooks.powerOff(), () => hooks.reset()), 'ACPI sleep/reset');
    this.mmio.register(PCI_ECAM.base, PCI_ECAM.size, this.pci.ecam, 'PCI ECAM');
    this.mmio.register(PCI_MMIO_WINDOW.base, PCI_MMIO_WINDOW.size, this.pci.barWindow, 'PCI BARs');
  }

  /** The ACPI description of this platform for `cpus` vCPUs (call after plugging devices). */
  acpiOptions(cpus: number): AcpiOptions {
    return {
      cpus,
      lapicAddr: LAPIC_ADDR,
      ioapicAddr: IOAPIC_ADDR,
      ioapicId: 0,
      ecam: PCI_ECAM,
      pciMmio: PCI_MMIO_WINDOW,
      intxGsi: pciIntxGsi,
      mmioDevices: this.mmioSlots.taken,
      com1: COM1,
    };
  }
}
