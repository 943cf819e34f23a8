import { dsdt, type DsdtOptions } from './dsdt.js';
import { fadt, madt, type MadtOptions, mcfg, rsdp, xsdt } from './tables.js';

/** Everything the ACPI tables describe. */
export interface AcpiOptions extends DsdtOptions, MadtOptions {}

/** The tables laid out for guest memory: `bytes` go at guest-physical `base`, RSDP first. */
export interface AcpiImage {
  readonly base: number;
  readonly rsdpAddr: number;
  readonly bytes: Uint8Array;
  /** Guest-physical address of each table by signature. */
  readonly tables: Readonly<Record<string, number>>;
}

/**
 * Builds RSDP, XSDT, FADT, DSDT, MADT and MCFG at consecutive 16-byte aligned addresses
 * from `base` (the RSDP must be on a 16-byte boundary in 0xE0000-0xFFFFF for the kernel's
 * scan; the VMM also passes it in boot_params.acpi_rsdp_addr).
 * @throws RangeError if the tables would exceed `limit`.
 */
export function buildAcpi(opts: AcpiOptions, base: number, limit: number): AcpiImage {
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const rsdpAddr = base;
  const xsdtAddr = align(rsdpAddr + 36);
  const d = dsdt(opts);
  const m = madt(opts);
  const c = mcfg(opts.ecam.base, opts.ecam.busStart, opts.ecam.busEnd);
  const xsdtLen = 36 + 8 * 3;
  const fadtAddr = align(xsdtAddr + xsdtLen);
  const f = fadt(0); // length only; rebuilt below with the DSDT address
  const dsdtAddr = align(fadtAddr + f.length);
  const madtAddr = align(dsdtAddr + d.length);
  const mcfgAddr = align(madtAddr + m.length);
  const end = mcfgAddr + c.length;
  if (end > limit) throw new RangeError(`ACPI tables need ${end - base} bytes, only ${limit - base} available`);
  const bytes = new Uint8Array(end - base);
  bytes.set(rsdp(xsdtAddr), rsdpAddr - base);
  bytes.set(xsdt([fadtAddr, madtAddr, mcfgAddr]), xsdtAddr - base);
  bytes.set(fadt(dsdtAddr), fadtAddr - base);
  bytes.set(d, dsdtAddr - base);
  bytes.set(m, madtAddr - base);
  bytes.set(c, mcfgAddr - base);
  return { base, rsdpAddr, bytes, tables: { XSDT: xsdtAddr, FACP: fadtAddr, DSDT: dsdtAddr, APIC: madtAddr, MCFG: mcfgAddr } };
}
