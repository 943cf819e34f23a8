// The type 0 configuration header, BAR sizing and configuration-space access rules.
import { describe, expect, it } from 'vitest';
import { EchoDevice } from '@virtio/core/testing';
import { PCI_HEADER, PciTransport, VIRTIO_PCI_DEVICE_ID_BASE, matchVirtioDevice, pciIdentity } from '../src/index.js';
import { FlatGuestMemory } from '@virtio/ring';
import { RenumberedDevice, TEST_DEVICE_ID, capList, rig } from './helpers.js';

const noInterrupts = { msi: () => {}, intx: () => {} };

describe('configuration header', () => {
  it('[pci.dev.2] presents Vendor ID 0x1AF4 and Device ID 0x1040 + Virtio Device ID', () => {
    const { pci } = rig();
    expect(pci.configRead(PCI_HEADER.vendor_id, 2)).toBe(0x1af4);
    expect(pci.configRead(PCI_HEADER.device_id, 2)).toBe(VIRTIO_PCI_DEVICE_ID_BASE + TEST_DEVICE_ID);
    expect(pci.configRead(0, 4)).toBe(((0x1040 + TEST_DEVICE_ID) << 16 | 0x1af4) >>> 0);
  });

  it('[pci.dev.2] presents the Transitional PCI Device ID of the table when asked', () => {
    const memory = new FlatGuestMemory(new ArrayBuffer(4096));
    const blk = new PciTransport(new RenumberedDevice(new EchoDevice(), 2), { memory, interrupt: noInterrupts, transitional: true });
    expect(blk.configRead(PCI_HEADER.device_id, 2)).toBe(0x1001);
    // Transitional devices: Revision ID 0, Subsystem Device ID = Virtio Device ID.
    expect(blk.configRead(PCI_HEADER.revision_id, 1)).toBe(0);
    expect(blk.configRead(PCI_HEADER.subsystem_id, 2)).toBe(2);
    expect(() => pciIdentity(TEST_DEVICE_ID, { transitional: true })).toThrow(RangeError);
    expect(() => pciIdentity(0x40)).toThrow(RangeError);
  });

  it('[pci.dev.4] a non-transitional device has Revision ID >= 1 and Subsystem Device ID >= 0x40', () => {
    const { pci } = rig();
    expect(pci.configRead(PCI_HEADER.revision_id, 1)).toBeGreaterThanOrEqual(1);
    expect(pci.configRead(PCI_HEADER.subsystem_id, 2)).toBeGreaterThanOrEqual(0x40);
    expect(pci.configRead(PCI_HEADER.subsystem_vendor_id, 2)).toBe(0x1af4);
  });

  it('[pci.dev.3] subsystem IDs can reflect the environment', () => {
    const { pci } = rig({ pci: { subsystemVendorId: 0x8086, subsystemId: 0x1234 } });
    expect(pci.configRead(PCI_HEADER.subsystem_vendor_id, 2)).toBe(0x8086);
    expect(pci.configRead(PCI_HEADER.subsystem_id, 2)).toBe(0x1234);
  });

  it('[pci.dev.1] is a well-formed type 0 function: header type, class code, INTA#, read-only IDs, linked capability list', () => {
    const { pci } = rig();
    expect(pci.configRead(PCI_HEADER.header_type, 1)).toBe(0);
    expect(pci.configRead(PCI_HEADER.interrupt_pin, 1)).toBe(1);
    expect(pci.configRead(0x08, 4) >>> 8).toBe(0xff0000); // class code of an unclassified device type
    pci.configWrite(0, 4, 0);
    pci.configWrite(PCI_HEADER.revision_id, 1, 0x77);
    expect(pci.configRead(PCI_HEADER.vendor_id, 2)).toBe(0x1af4);
    expect(pci.configRead(PCI_HEADER.revision_id, 1)).toBe(1);
    // Status: Capabilities List set; the list is dword-aligned, above the header, and terminates.
    expect(pci.configRead(PCI_HEADER.status, 2) & 0x10).toBe(0x10);
    const caps = capList(pci);
    expect(caps.length).toBeGreaterThanOrEqual(5);
    for (const c of caps) {
      expect(c.at % 4).toBe(0);
      expect(c.at).toBeGreaterThanOrEqual(0x40);
    }
    // Writable registers keep what is written; only implemented command bits stick.
    pci.configWrite(PCI_HEADER.interrupt_line, 1, 11);
    expect(pci.configRead(PCI_HEADER.interrupt_line, 1)).toBe(11);
    pci.configWrite(PCI_HEADER.command, 2, 0xffff);
    expect(pci.configRead(PCI_HEADER.command, 2)).toBe(0x406);
  });

  it('[pci.dev.1] BAR sizing: all-ones writes read back the size mask with the type bits; addresses stick', () => {
    const { pci } = rig();
    const virtio = pci.layout.bars.find((b) => b.contents === 'virtio')!;
    const msix = pci.layout.bars.find((b) => b.contents === 'msix')!;
    expect(virtio).toMatchObject({ index: 4, is64: true, space: 'memory' });
    expect(pci.bars).toBe(pci.layout.bars);
    const reg = 0x10 + 4 * virtio.index;
    expect(pci.configRead(reg, 4)).toBe(0x4); // 64-bit memory, not prefetchable
    pci.configWrite(reg, 4, 0xffffffff);
    pci.configWrite(reg + 4, 4, 0xffffffff);
    expect(pci.configRead(reg, 4)).toBe((~(virtio.size - 1) & 0xfffffff0 | 0x4) >>> 0);
    expect(pci.configRead(reg + 4, 4)).toBe(0xffffffff);
    pci.configWrite(reg, 4, 0xfe000000);
    pci.configWrite(reg + 4, 4, 0x1);
    expect(pci.barAddress(virtio.index)).toBe(0x1_fe000000);
    const mreg = 0x10 + 4 * msix.index;
    pci.configWrite(mreg, 4, 0xffffffff);
    expect(pci.configRead(mreg, 4)).toBe((~(msix.size - 1) & 0xfffffff0) >>> 0);
    // Unimplemented BARs are hard-wired to zero.
    pci.configWrite(0x10, 4, 0xffffffff);
    expect(pci.configRead(0x10, 4)).toBe(0);
    expect(pci.barAddress(0)).toBeUndefined();
  });

  it('odd widths, unaligned and out-of-range configuration accesses read 0, are ignored and counted', () => {
    const { pci } = rig();
    const before = { ...pci.counters };
    expect(pci.configRead(1, 2)).toBe(0);
    expect(pci.configRead(2, 4)).toBe(0);
    expect(pci.configRead(0, 3)).toBe(0);
    expect(pci.configRead(256, 1)).toBe(0);
    expect(pci.configRead(-1, 1)).toBe(0);
    expect(pci.configRead(0.5, 1)).toBe(0);
    pci.configWrite(PCI_HEADER.interrupt_line - 1, 2, 0xffff);
    pci.configWrite(4096, 4, 1);
    expect(pci.configRead(PCI_HEADER.interrupt_line, 1)).toBe(0);
    expect(pci.counters.ignoredReads - before.ignoredReads).toBe(6);
    expect(pci.counters.ignoredWrites - before.ignoredWrites).toBe(2);
  });
});

describe('driver-side matching', () => {
  it('[pci.drv.1] matches 0x1AF4 with 0x1041..0x107f and the transitional IDs of the table', () => {
    expect(matchVirtioDevice(0x1af4, 0x1041)).toBe(1);
    expect(matchVirtioDevice(0x1af4, 0x107f)).toBe(0x3f);
    expect(matchVirtioDevice(0x1af4, 0x1000)).toBe(1);
    expect(matchVirtioDevice(0x1af4, 0x1001)).toBe(2);
    expect(matchVirtioDevice(0x1af4, 0x1009)).toBe(9);
    expect(matchVirtioDevice(0x1af4, 0x1006)).toBeUndefined();
    expect(matchVirtioDevice(0x1af4, 0x1080)).toBeUndefined();
    expect(matchVirtioDevice(0x1af4, 0x1040)).toBeUndefined();
    expect(matchVirtioDevice(0x8086, 0x1041)).toBeUndefined();
  });
});
