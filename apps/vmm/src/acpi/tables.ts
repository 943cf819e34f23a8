import { byteSum, gas, GAS_ACCESS_BYTE, GAS_SYSTEM_IO, OEM_ID, putAscii, putU64, sdt } from './sdt.js';

/** RSDP revision 2 (36 bytes): checksum over the first 20 bytes, extended checksum over all. */
export function rsdp(xsdtAddr: number): Uint8Array {
  const t = new Uint8Array(36);
  const dv = new DataView(t.buffer);
  putAscii(t, 0, 'RSD PTR ', 8);
  putAscii(t, 9, OEM_ID, 6);
  t[15] = 2;
  dv.setUint32(20, 36, true);
  putU64(dv, 24, xsdtAddr);
  t[8] = (256 - byteSum(t.subarray(0, 20))) & 0xff;
  t[32] = (256 - byteSum(t)) & 0xff;
  return t;
}

/** XSDT: 64-bit pointers to the other tables (guest-physical). */
export function xsdt(tableAddrs: readonly number[]): Uint8Array {
  const body = new Uint8Array(8 * tableAddrs.length);
  const dv = new DataView(body.buffer);
  tableAddrs.forEach((a, i) => putU64(dv, i * 8, a));
  return sdt('XSDT', 1, body);
}

/** FADT flags and IA-PC boot architecture flags used here. */
export const FADT_HW_REDUCED_ACPI = 1 << 20;
export const FADT_RESET_REG_SUP = 1 << 10;
export const IAPC_VGA_NOT_PRESENT = 1 << 2;

/** I/O ports of the hardware-reduced ACPI sleep registers. */
export const SLEEP_CONTROL_PORT = 0x600;
export const SLEEP_STATUS_PORT = 0x601;
/** I/O port of the ACPI reset register, and the value that resets. */
export const RESET_PORT = 0x602;
export const RESET_VALUE = 1;

/**
 * FADT revision 6 (276 bytes), hardware-reduced (HW_REDUCED_ACPI): no PM1/GPE blocks, no
 * SMI; power-off goes through SLEEP_CONTROL_REG (byte at SLEEP_CONTROL_PORT) and
 * SLEEP_STATUS_REG (SLEEP_STATUS_PORT), reboot through RESET_REG (RESET_VALUE to RESET_PORT,
 * RESET_REG_SUP), which Linux tries before the i8042. IAPC_BOOT_ARCH says "no VGA" and, without the 8042
 * flag, makes Linux skip probing the keyboard controller. SCI_INT 9.
 */
export function fadt(dsdtAddr: number): Uint8Array {
  const body = new Uint8Array(276 - 36);
  const dv = new DataView(body.buffer);
  const at = (off: number) => off - 36;
  dv.setUint32(at(40), dsdtAddr, true);
  dv.setUint16(at(46), 9, true); // SCI_INT
  dv.setUint16(at(109), IAPC_VGA_NOT_PRESENT, true);
  dv.setUint32(at(112), FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP, true);
  gas(dv, at(116), GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, RESET_PORT);
  body[at(128)] = RESET_VALUE;
  body[at(131)] = 5; // FADT minor version (6.5)
  putU64(dv, at(140), dsdtAddr); // X_DSDT
  gas(dv, at(244), GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, SLEEP_CONTROL_PORT);
  gas(dv, at(256), GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, SLEEP_STATUS_PORT);
  putAscii(body, at(268), 'VIRTIOTS', 8); // hypervisor vendor identity
  return sdt('FACP', 6, body);
}

/** MADT inputs: local APIC and IOAPIC guest-physical addresses, the vCPU count. */
export interface MadtOptions {
  readonly cpus: number;
  readonly lapicAddr: number;
  readonly ioapicAddr: number;
  readonly ioapicId: number;
}

/**
 * MADT (APIC): PCAT_COMPAT (8259s present), one Processor Local APIC per vCPU (ACPI
 * processor UID = APIC ID = index, enabled), one I/O APIC at GSI base 0, interrupt source
 * overrides IRQ0 -> GSI2 (edge, high) and IRQ9 -> GSI9 (level, active low: the SCI), and a
 * Local APIC NMI on LINT1 for all processors.
 */
export function madt(opts: MadtOptions): Uint8Array {
  const entries: number[] = [];
  const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  for (let i = 0; i < opts.cpus; i++) entries.push(0, 8, i, i, ...u32(1));
  entries.push(1, 12, opts.ioapicId, 0, ...u32(opts.ioapicAddr), ...u32(0));
  entries.push(2, 10, 0, 0, ...u32(2), ...u16(0));
  entries.push(2, 10, 0, 9, ...u32(9), ...u16(0x000f));
  entries.push(4, 6, 0xff, ...u16(0), 1);
  const body = new Uint8Array(8 + entries.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, opts.lapicAddr, true);
  dv.setUint32(4, 1, true); // PCAT_COMPAT
  body.set(entries, 8);
  return sdt('APIC', 5, body);
}

/** MCFG: one ECAM allocation (base guest-physical, PCI segment 0, bus range). */
export function mcfg(base: number, busStart: number, busEnd: number): Uint8Array {
  const body = new Uint8Array(8 + 16);
  const dv = new DataView(body.buffer);
  putU64(dv, 8, base);
  dv.setUint16(16, 0, true);
  body[18] = busStart;
  body[19] = busEnd;
  return sdt('MCFG', 1, body);
}
