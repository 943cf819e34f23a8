import { concat, device, eisaId, integer, name, pkg, scope, string } from './aml.js';
import { ADDRESS_BUS, ADDRESS_IO, ADDRESS_MEMORY, addressSpace, extendedInterrupt, io, irqNoFlags, memory32Fixed, resourceTemplate } from './resources.js';
import { sdt } from './sdt.js';

/** A virtio-mmio device as the DSDT describes it: register window (guest-physical) and GSI. */
export interface MmioDeviceDescription {
  readonly base: number;
  readonly size: number;
  readonly gsi: number;
}

/** What the DSDT describes. */
export interface DsdtOptions {
  /** ECAM window (reserved as a motherboard resource) and the bus range it decodes. */
  readonly ecam: { readonly base: number; readonly size: number; readonly busStart: number; readonly busEnd: number };
  /** The 32-bit window PCI BARs are assigned from. */
  readonly pciMmio: { readonly base: number; readonly size: number };
  /** GSI for INTx: device slot s, pin p (0 = INTA) routes to intxGsi(s, p). */
  readonly intxGsi: (slot: number, pin: number) => number;
  readonly mmioDevices: readonly MmioDeviceDescription[];
  /** The 16550A UART: I/O base and ISA IRQ. */
  readonly com1: { readonly port: number; readonly irq: number };
}

/** _PRT entry: Package { slot address 0xSSSSFFFF, pin, source 0, GSI } (no link devices). */
function prtEntry(slot: number, pin: number, gsi: number): Uint8Array {
  return pkg(integer(((slot << 16) | 0xffff) >>> 0), integer(pin), integer(0), integer(gsi));
}

/**
 * The DSDT (revision 2: 64-bit integers). In \_SB: PCI0 (PNP0A08 / PNP0A03, _SEG 0, _BBN 0,
 * _CRS with the bus range, the 0xCF8 config ports, the I/O and MMIO windows, and a _PRT
 * routing every slot's INTA-INTD to a GSI), a PNP0C02 motherboard resource reserving the
 * ECAM window, COM1 (PNP0501 with its ports and IRQ: under hardware-reduced ACPI Linux has
 * no legacy PIC and maps ISA IRQs only from ACPI), and one LNRO0005 device per virtio-mmio window with Memory32Fixed and an
 * edge-triggered, active-high Interrupt. At the root, \_S5 for the sleep control register.
 */
export function dsdt(opts: DsdtOptions): Uint8Array {
  const prt: Uint8Array[] = [];
  for (let slot = 1; slot < 32; slot++) for (let pin = 0; pin < 4; pin++) prt.push(prtEntry(slot, pin, opts.intxGsi(slot, pin)));
  const pci = device(
    'PCI0',
    name('_HID', eisaId('PNP0A08')),
    name('_CID', eisaId('PNP0A03')),
    name('_SEG', integer(0)),
    name('_BBN', integer(opts.ecam.busStart)),
    name('_UID', integer(0)),
    name(
      '_CRS',
      resourceTemplate(
        addressSpace('word', ADDRESS_BUS, 0, opts.ecam.busStart, opts.ecam.busEnd),
        io(0xcf8, 0xcf8, 1, 8),
        addressSpace('word', ADDRESS_IO, 3, 0x0000, 0x0cf7),
        addressSpace('word', ADDRESS_IO, 3, 0x0d00, 0xffff),
        addressSpace('dword', ADDRESS_MEMORY, 1, opts.pciMmio.base, opts.pciMmio.base + opts.pciMmio.size - 1),
      ),
    ),
    name('_PRT', pkg(...prt)),
  );
  const mres = device('MRES', name('_HID', eisaId('PNP0C02')), name('_UID', integer(0)), name('_CRS', resourceTemplate(memory32Fixed(opts.ecam.base, opts.ecam.size))));
  const com1 = device(
    'COM1',
    name('_HID', eisaId('PNP0501')),
    name('_UID', integer(1)),
    name('_CRS', resourceTemplate(io(opts.com1.port, opts.com1.port, 1, 8), irqNoFlags(opts.com1.irq))),
  );
  const mmio = opts.mmioDevices.map((d, i) =>
    device(
      `VR${i.toString(16).toUpperCase().padStart(2, '0')}`,
      name('_HID', string('LNRO0005')),
      name('_UID', integer(i)),
      name('_CCA', integer(1)),
      name('_CRS', resourceTemplate(memory32Fixed(d.base, d.size), extendedInterrupt(d.gsi, { edge: true, activeLow: false, shared: false }))),
    ),
  );
  const body = concat(scope('\\_SB', pci, mres, com1, ...mmio), name('\\_S5', pkg(integer(5), integer(0), integer(0), integer(0))));
  return sdt('DSDT', 2, body);
}
