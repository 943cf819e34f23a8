import { describe, expect, it } from 'vitest';
import { buffer, device, eisaId, integer, method, name, nameSeg, nameString, pkg, pkgLength, ret, scope, string } from '../src/acpi/aml.js';
import { addressSpace, extendedInterrupt, io, irqNoFlags, memory32Fixed, resourceTemplate } from '../src/acpi/resources.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe('AML encoding (ACPI 6.5 section 20)', () => {
  it('pads NameSegs with underscores and rejects invalid ones', () => {
    expect(nameSeg('_S5')).toEqual(bytes(...ascii('_S5_')));
    expect(() => nameSeg('1ABC')).toThrow(RangeError);
    expect(() => nameSeg('ABCDE')).toThrow(RangeError);
  });

  it('encodes root, parent, dual and multi name paths', () => {
    expect(nameString('\\_SB')).toEqual(bytes(0x5c, ...ascii('_SB_')));
    expect(nameString('^PCI0')).toEqual(bytes(0x5e, ...ascii('PCI0')));
    expect(nameString('\\_SB.PCI0')).toEqual(bytes(0x5c, 0x2e, ...ascii('_SB_PCI0')));
    expect(nameString('A.B.C')).toEqual(bytes(0x2f, 3, ...ascii('A___B___C___')));
    expect(nameString('\\')).toEqual(bytes(0x5c, 0x00));
  });

  it('encodes PkgLength in 1 to 4 bytes, counting itself', () => {
    expect(pkgLength(0)).toEqual(bytes(0x01));
    expect(pkgLength(62)).toEqual(bytes(0x3f));
    expect(pkgLength(63)).toEqual(bytes(0x41, 0x04)); // 65 = 0x41: low nibble 1, then 0x04
    expect(pkgLength(4093)).toEqual(bytes(0x4f, 0xff)); // 4095
    expect(pkgLength(4094)).toEqual(bytes(0x81, 0x00, 0x01)); // 4097 = 0x1001 in 3 bytes
    expect(pkgLength(0x100000)).toEqual(bytes(0xc4, 0x00, 0x00, 0x01)); // 0x100004 in 4 bytes
  });

  it('picks the shortest integer encoding', () => {
    expect(integer(0)).toEqual(bytes(0x00));
    expect(integer(1)).toEqual(bytes(0x01));
    expect(integer(5)).toEqual(bytes(0x0a, 5));
    expect(integer(0x1234)).toEqual(bytes(0x0b, 0x34, 0x12));
    expect(integer(0xfec00000)).toEqual(bytes(0x0c, 0x00, 0x00, 0xc0, 0xfe));
    expect(integer(0x1_0000_0000)).toEqual(bytes(0x0e, 0, 0, 0, 0, 1, 0, 0, 0));
    expect(() => integer(-1)).toThrow(RangeError);
  });

  it('encodes strings and EISA IDs like iasl', () => {
    expect(string('LNRO0005')).toEqual(bytes(0x0d, ...ascii('LNRO0005'), 0));
    expect(eisaId('PNP0A03')).toEqual(bytes(0x0c, 0x41, 0xd0, 0x0a, 0x03));
    expect(eisaId('PNP0A08')).toEqual(bytes(0x0c, 0x41, 0xd0, 0x0a, 0x08));
    expect(eisaId('PNP0C02')).toEqual(bytes(0x0c, 0x41, 0xd0, 0x0c, 0x02));
  });

  it('encodes Name, Scope, Device, Method, Return, Package and Buffer', () => {
    expect(name('_UID', integer(0))).toEqual(bytes(0x08, ...ascii('_UID'), 0x00));
    expect(scope('\\_SB')).toEqual(bytes(0x10, 0x06, 0x5c, ...ascii('_SB_')));
    expect(device('VR00', name('_UID', integer(1)))).toEqual(bytes(0x5b, 0x82, 0x0b, ...ascii('VR00'), 0x08, ...ascii('_UID'), 0x01));
    expect(method('_STA', 0, ret(integer(0x0f)))).toEqual(bytes(0x14, 0x09, ...ascii('_STA'), 0x00, 0xa4, 0x0a, 0x0f));
    expect(pkg(integer(5), integer(0))).toEqual(bytes(0x12, 0x05, 0x02, 0x0a, 0x05, 0x00));
    expect(buffer(bytes(0x79, 0x00))).toEqual(bytes(0x11, 0x05, 0x0a, 0x02, 0x79, 0x00));
  });
});

describe('resource descriptors (ACPI 6.5 section 6.4)', () => {
  it('encodes Memory32Fixed as large item 0x86', () => {
    expect(memory32Fixed(0xf0000000, 0x1000)).toEqual(bytes(0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xf0, 0x00, 0x10, 0x00, 0x00));
  });

  it('encodes an edge, active-high, exclusive Interrupt as large item 0x89', () => {
    expect(extendedInterrupt(5, { edge: true, activeLow: false, shared: false })).toEqual(bytes(0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00));
    expect(extendedInterrupt(20, { edge: false, activeLow: true, shared: true })[3]).toBe(0x0d);
  });

  it('encodes IRQNoFlags as small item 0x22 with an IRQ mask', () => {
    expect(irqNoFlags(4)).toEqual(bytes(0x22, 0x10, 0x00));
    expect(irqNoFlags(12)).toEqual(bytes(0x22, 0x00, 0x10));
    expect(() => irqNoFlags(16)).toThrow(RangeError);
  });

  it('encodes IO as small item 0x47', () => {
    expect(io(0xcf8, 0xcf8, 1, 8)).toEqual(bytes(0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08));
  });

  it('encodes Word and DWord address space descriptors', () => {
    expect(addressSpace('word', 2, 0, 0, 0)).toEqual(bytes(0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0));
    const d = addressSpace('dword', 0, 1, 0xc0000000, 0xdfffffff);
    expect(d.length).toBe(26);
    expect([...d.subarray(0, 6)]).toEqual([0x87, 0x17, 0x00, 0x00, 0x0c, 0x01]);
    expect([...d.subarray(22, 26)]).toEqual([0x00, 0x00, 0x00, 0x20]);
  });

  it('ends a ResourceTemplate with the End Tag', () => {
    const t = resourceTemplate(io(0x3f8, 0x3f8, 1, 8));
    expect([...t.subarray(t.length - 2)]).toEqual([0x79, 0x00]);
    expect(t[0]).toBe(0x11);
  });
});
