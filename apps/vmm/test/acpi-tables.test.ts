import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAcpi } from '../src/acpi/build.js';
import { dsdt } from '../src/acpi/dsdt.js';
import { byteSum } from '../src/acpi/sdt.js';
import { FADT_HW_REDUCED_ACPI, RESET_PORT, SLEEP_CONTROL_PORT, SLEEP_STATUS_PORT } from '../src/acpi/tables.js';
import { Platform } from '../src/machine/platform.js';

const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;
const sig = (b: Uint8Array, at = 0) => String.fromCharCode(...b.subarray(at, at + 4));

function platformWithMmio(devices: number) {
  const p = new Platform({ irqLine: () => {}, signalMsi: () => {}, serialOutput: () => {}, powerOff: () => {}, reset: () => {} });
  for (let i = 0; i < devices; i++) p.mmioSlots.take();
  return p;
}

const BASE = 0xe0000;
const image = buildAcpi(platformWithMmio(2).acpiOptions(2), BASE, 0x100000);
const table = (s: string) => {
  const at = image.tables[s] - BASE;
  return image.bytes.subarray(at, at + u32(image.bytes, at + 4));
};

describe('ACPI tables', () => {
  it('places a revision 2 RSDP at the 16-byte aligned base with both checksums valid', () => {
    const r = image.bytes.subarray(0, 36);
    expect(image.rsdpAddr).toBe(BASE);
    expect(String.fromCharCode(...r.subarray(0, 8))).toBe('RSD PTR ');
    expect(r[15]).toBe(2);
    expect(byteSum(r.subarray(0, 20))).toBe(0);
    expect(byteSum(r)).toBe(0);
    expect(u64(r, 24)).toBe(image.tables.XSDT);
  });

  it('gives every table a valid checksum and its signature', () => {
    for (const s of ['XSDT', 'FACP', 'DSDT', 'APIC', 'MCFG']) {
      const t = table(s);
      expect(sig(t)).toBe(s);
      expect(byteSum(t)).toBe(0);
      expect(image.tables[s] % 16).toBe(0);
    }
  });

  it('lists FADT, MADT and MCFG in the XSDT', () => {
    const x = table('XSDT');
    expect([u64(x, 36), u64(x, 44), u64(x, 52)]).toEqual([image.tables.FACP, image.tables.APIC, image.tables.MCFG]);
  });

  it('has a hardware-reduced revision 6 FADT with sleep and reset registers and the DSDT', () => {
    const f = table('FACP');
    expect(f.length).toBe(276);
    expect(f[8]).toBe(6);
    expect(u32(f, 112) & FADT_HW_REDUCED_ACPI).toBe(FADT_HW_REDUCED_ACPI);
    expect(u32(f, 40)).toBe(image.tables.DSDT);
    expect(u64(f, 140)).toBe(image.tables.DSDT);
    expect([f[244], f[245], u64(f, 248)]).toEqual([1, 8, SLEEP_CONTROL_PORT]);
    expect([f[256], f[257], u64(f, 260)]).toEqual([1, 8, SLEEP_STATUS_PORT]);
    expect(u32(f, 112) & (1 << 10)).toBe(1 << 10);
    expect([f[116], f[117], u64(f, 120), f[128]]).toEqual([1, 8, RESET_PORT, 1]);
    expect(u16(f, 109) & 0x2).toBe(0); // no 8042: Linux does not probe the keyboard controller
  });

  it('has a MADT with one LAPIC per vCPU, the IOAPIC and the IRQ0/IRQ9 overrides', () => {
    const m = table('APIC');
    expect(u32(m, 36)).toBe(0xfee00000);
    expect(u32(m, 40)).toBe(1);
    const entries: number[][] = [];
    for (let at = 44; at < m.length; at += m[at + 1]) entries.push([...m.subarray(at, at + m[at + 1])]);
    expect(entries.filter((e) => e[0] === 0)).toEqual([
      [0, 8, 0, 0, 1, 0, 0, 0],
      [0, 8, 1, 1, 1, 0, 0, 0],
    ]);
    expect(entries.find((e) => e[0] === 1)).toEqual([1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0]);
    expect(entries.filter((e) => e[0] === 2)).toEqual([
      [2, 10, 0, 0, 2, 0, 0, 0, 0, 0],
      [2, 10, 0, 9, 9, 0, 0, 0, 0x0f, 0],
    ]);
  });

  it('has an MCFG for the ECAM window on bus 0', () => {
    const c = table('MCFG');
    expect(c.length).toBe(36 + 8 + 16);
    expect(u64(c, 44)).toBe(0xe0000000);
    expect([u16(c, 52), c[54], c[55]]).toEqual([0, 0, 0]);
  });

  it('refuses to overflow its area', () => {
    expect(() => buildAcpi(platformWithMmio(1).acpiOptions(1), BASE, BASE + 100)).toThrow(RangeError);
  });
});

let iasl = true;
try {
  execFileSync('iasl', ['-v'], { stdio: 'ignore' });
} catch {
  iasl = false;
}

describe('DSDT', () => {
  it.skipIf(!iasl)('disassembles with iasl -d into the PCI host bridge, the virtio-mmio devices and _S5 (skipped without acpica-tools)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmm-dsdt-'));
    try {
      const opts = platformWithMmio(2).acpiOptions(1);
      writeFileSync(join(dir, 'dsdt.aml'), dsdt(opts));
      execFileSync('iasl', ['-d', 'dsdt.aml'], { cwd: dir, stdio: 'pipe' });
      const dsl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      expect(dsl).toMatch(/Device \(PCI0\)/);
      expect(dsl).toMatch(/Name \(_HID, EisaId \("PNP0A08"\)/);
      expect(dsl).toMatch(/Name \(_CID, EisaId \("PNP0A03"\)/);
      expect(dsl).toMatch(/Name \(_SEG, Zero\)/);
      expect(dsl).toMatch(/WordBusNumber \(ResourceProducer, MinFixed, MaxFixed, PosDecode,[\s\S]*?0x0000,[\s\S]*?0x0000,/);
      expect(dsl).toMatch(/DWordMemory \(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,[\s\S]*?0xC0000000,[\s\S]*?0xDFFFFFFF,/);
      expect(dsl).toMatch(/Name \(_PRT, Package \(0x7C\)/);
      expect(dsl).toMatch(/Package \(0x04\)\s*\{\s*0x0001FFFF,\s*Zero,\s*Zero,\s*0x15\s*\}/);
      expect(dsl).toMatch(/Device \(MRES\)[\s\S]*?EisaId \("PNP0C02"\)[\s\S]*?Memory32Fixed \(ReadWrite,\s*0xE0000000,\s*0x00100000/);
      for (const [i, base, irq] of [[0, '0xF0000000', '0x00000005'], [1, '0xF0001000', '0x00000006']] as const) {
        expect(dsl).toMatch(new RegExp(`Device \\(VR0${i}\\)\\s*\\{\\s*Name \\(_HID, "LNRO0005"\\)[\\s\\S]*?Memory32Fixed \\(ReadWrite,\\s*${base},\\s*0x00001000,[\\s\\S]*?Interrupt \\(ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, \\)\\s*\\{\\s*${irq},`));
      }
      expect(dsl).toMatch(/Device \(COM1\)[\s\S]*?EisaId \("PNP0501"\)[\s\S]*?IO \(Decode16,\s*0x03F8,\s*0x03F8,\s*0x01,\s*0x08,\s*\)\s*IRQNoFlags \(\)\s*\{4\}/);
      expect(dsl).toMatch(/Name \(\\_S5, Package \(0x04\)\s*\{\s*0x05,\s*Zero,\s*Zero,\s*Zero\s*\}/);
      expect(dsl).not.toMatch(/Error|Unknown|Unexpected/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
