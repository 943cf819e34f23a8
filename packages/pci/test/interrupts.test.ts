// MSI-X vectors, masking and pending bits; INT#x with the ISR status.
import { describe, expect, it } from 'vitest';
import { VIRTIO_F_RING_RESET, featureMask } from '@virtio/core';
import { COMMON_CFG as C, PCI_HEADER, VIRTIO_MSI_NO_VECTOR, VIRTIO_PCI_CAP_ISR_CFG } from '../src/index.js';
import { bringUp, commonCfg, echoThrough, rig, virtioCap } from './helpers.js';

const payload = new Uint8Array([42]);

function isrReader(r: ReturnType<typeof rig>) {
  const isr = virtioCap(r.pci, VIRTIO_PCI_CAP_ISR_CFG)!;
  return () => r.pci.barRead(isr.bar, isr.offset, 1);
}

function msixCapAt(r: ReturnType<typeof rig>): number {
  let at = r.pci.configRead(0x34, 1);
  while (at !== 0 && r.pci.configRead(at, 1) !== 0x11) at = r.pci.configRead(at + 1, 1);
  return at;
}

describe('MSI-X', () => {
  it('[pci.dev.41] reports its vectors in Table Size, with the table and PBA in a BAR', () => {
    const r = rig({ echo: { queues: 3 }, pci: { msixVectors: 7 } });
    const at = msixCapAt(r);
    expect(at).toBeGreaterThan(0);
    expect(r.pci.configRead(at + 2, 2) & 0x7ff).toBe(6);
    const table = r.pci.configRead(at + 4, 4);
    const pba = r.pci.configRead(at + 8, 4);
    const bar = r.pci.layout.bars.find((b) => b.index === (table & 7))!;
    expect(bar.contents).toBe('msix');
    expect((table & ~7) + 7 * 16).toBeLessThanOrEqual(bar.size);
    expect((pba & ~7) + 8).toBeLessThanOrEqual(bar.size);
    // Default: one vector per queue plus one for configuration changes; at most 0x800.
    const byDefault = rig({ echo: { queues: 3 } });
    expect(byDefault.pci.configRead(msixCapAt(byDefault) + 2, 2) & 0x7ff).toBe(3);
    expect(() => rig({ pci: { msixVectors: 0x801 } })).toThrow(RangeError);
    expect(msixCapAt(rig({ pci: { msixVectors: 0 } }))).toBe(0);
  });

  it('[pci.dev.42] [pci.dev.43] returns the mapped vector, and NO_VECTOR for a vector beyond the table', () => {
    const r = rig({ echo: { queues: 2 }, pci: { msixVectors: 3 } });
    const cc = commonCfg(r.pci);
    expect(cc.read(C.config_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    cc.write(C.config_msix_vector, 2, 2);
    expect(cc.read(C.config_msix_vector, 2)).toBe(2);
    cc.write(C.config_msix_vector, 2, 3);
    expect(cc.read(C.config_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    cc.write(C.queue_select, 2, 1);
    cc.write(C.queue_msix_vector, 2, 0);
    expect(cc.read(C.queue_msix_vector, 2)).toBe(0);
    cc.write(C.queue_msix_vector, 2, 0x7ff);
    expect(cc.read(C.queue_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    cc.write(C.queue_msix_vector, 2, 1);
    cc.write(C.queue_msix_vector, 2, VIRTIO_MSI_NO_VECTOR); // unmapping always works
    expect(cc.read(C.queue_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    // Any event to any valid vector: both queues and the configuration on one vector.
    for (const q of [0, 1]) {
      cc.write(C.queue_select, 2, q);
      cc.write(C.queue_msix_vector, 2, 1);
      expect(cc.read(C.queue_msix_vector, 2)).toBe(1);
    }
    // Without an MSI-X capability every mapping fails.
    const none = commonCfg(rig({ pci: { msixVectors: 0 } }).pci);
    none.write(C.config_msix_vector, 2, 0);
    expect(none.read(C.config_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
  });

  it('[pci.dev.44] sends nothing for a queue whose vector is NO_VECTOR while MSI-X is enabled', () => {
    const r = rig();
    const up = bringUp(r, { msix: true });
    commonCfg(r.pci).write(C.queue_select, 2, 0);
    commonCfg(r.pci).write(C.queue_msix_vector, 2, VIRTIO_MSI_NO_VECTOR);
    expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
    expect(r.msis).toEqual([]);
    expect(r.intx).toEqual([]);
    expect(r.pci.intxAsserted).toBe(false);
  });

  it('[pci.dev.45] sends nothing for a configuration change when config_msix_vector is NO_VECTOR', () => {
    const r = rig();
    const up = bringUp(r, { msix: true });
    up.driver.setConfigVector(VIRTIO_MSI_NO_VECTOR);
    r.echo.host!.configChanged();
    expect(r.msis).toEqual([]);
    expect(r.intx).toEqual([]);
    up.driver.setConfigVector(0);
    r.echo.host!.configChanged();
    expect(r.msis.map((m) => m.vector)).toEqual([0]);
    expect(up.driver.takeInterrupt(0)).toEqual({ usedBuffer: false, configChange: true });
  });

  it('tells the interrupt output which table entry the driver rewrote', () => {
    const changed: number[] = [];
    const r = rig({ pci: { interrupt: { msi: () => {}, intx: () => {}, msixEntryChanged: (v) => changed.push(v) } } });
    const t = r.pci.layout.msixTable!;
    r.pci.barWrite(t.bar, t.offset + 16, 4, 0xfee01000); // vector 1 address
    r.pci.barWrite(t.bar, t.offset + 24, 4, 0x45); // vector 1 data
    r.pci.barWrite(t.bar, t.offset + 12, 4, 0); // vector 0 control: not an address/data change
    expect(changed).toEqual([1, 1]);
    expect(r.pci.msixEntry(1)).toMatchObject({ addressLo: 0xfee01000, data: 0x45, masked: true });
  });

  it('a masked vector becomes pending and is sent when unmasked; the function mask holds every vector', () => {
    const r = rig();
    const up = bringUp(r, { msix: true });
    up.driver.maskVector(1, true);
    echoThrough(r, up, 0, payload);
    expect(r.msis).toEqual([]);
    expect(r.pci.msixPending(1)).toBe(true);
    const pbaOff = r.pci.layout.msixPba!.offset;
    expect(r.pci.barRead(1, pbaOff, 4)).toBe(0b10);
    up.driver.maskVector(1, false);
    expect(r.msis.map((m) => m.vector)).toEqual([1]);
    expect(r.pci.msixPending(1)).toBe(false);
    // Function mask.
    const flags = msixCapAt(r) + 2;
    r.pci.configWrite(flags, 2, 0xc000);
    echoThrough(r, up, 0, payload);
    expect(r.msis).toHaveLength(1);
    expect(r.pci.counters.msiPending).toBe(2);
    r.pci.configWrite(flags, 2, 0x8000);
    expect(r.msis.map((m) => m.vector)).toEqual([1, 1]);
    expect(r.pci.msixEntry(1)).toEqual({ addressLo: 0xfee00000, addressHi: 0, data: 0x41, masked: false });
  });

  it('[pci.drv.30] one vector may stand for the configuration and queues at once', () => {
    const r = rig({ pci: { msixVectors: 1 } });
    const up = bringUp(r, { msix: false });
    up.driver.enableMsix(() => ({ addressLo: 0xfee00000, addressHi: 0, data: 0x50 }));
    expect(up.driver.setConfigVector(0)).toBe(true);
    // Re-map the queue onto vector 0: reset and set up again is how a driver would; here use the register.
    commonCfg(r.pci).write(C.queue_select, 2, 0);
    commonCfg(r.pci).write(C.queue_msix_vector, 2, 0);
    r.echo.host!.configChanged();
    echoThrough(r, up, 0, payload);
    expect(r.msis.map((m) => m.vector)).toEqual([0, 0]);
  });
});

describe('INT#x and ISR status', () => {
  it('[pci.dev.32] [pci.dev.34] sets the Queue Interrupt bit before interrupting, and a read clears it', () => {
    const r = rig();
    const readIsr = isrReader(r);
    const seen: number[] = [];
    const up = bringUp(r);
    // Peek at the ISR through the Status register (which does not clear it) when INT#x rises.
    r.hooks.onIntx = (level) => {
      if (level) seen.push(r.pci.configRead(PCI_HEADER.status, 2) & 0x8);
    };
    echoThrough(r, up, 0, payload);
    expect(seen).toEqual([0x8]);
    expect(readIsr()).toBe(1);
    expect(readIsr()).toBe(0);
    expect(r.intx).toEqual([true, false]);
  });

  it('[pci.dev.31] sets the Device Configuration Interrupt bit before a configuration change notification, MSI-X or not', () => {
    for (const msix of [false, true]) {
      const r = rig();
      const readIsr = isrReader(r);
      bringUp(r, { msix });
      let isrAtInterrupt = -1;
      r.hooks.onMsi = () => {
        isrAtInterrupt = readIsr();
      };
      r.hooks.onIntx = (level) => {
        if (level) isrAtInterrupt = readIsr();
      };
      r.echo.host!.configChanged();
      expect(isrAtInterrupt & 2).toBe(2);
    }
  });

  it('[pci.dev.33] the Status Interrupt Status bit is the OR of the ISR bits; INT#x follows unless disabled', () => {
    const r = rig();
    const readIsr = isrReader(r);
    const up = bringUp(r);
    const status = () => r.pci.configRead(PCI_HEADER.status, 2) & 0x8;
    expect(status()).toBe(0);
    echoThrough(r, up, 0, payload);
    expect(status()).toBe(0x8);
    expect(r.pci.intxAsserted).toBe(true);
    // Interrupt Disable de-asserts the line but the status still shows the interrupt.
    r.pci.configWrite(PCI_HEADER.command, 2, 0x406);
    expect(r.pci.intxAsserted).toBe(false);
    expect(status()).toBe(0x8);
    r.pci.configWrite(PCI_HEADER.command, 2, 0x006);
    expect(r.pci.intxAsserted).toBe(true);
    readIsr();
    expect(status()).toBe(0);
    expect(r.intx).toEqual([true, false, true, false]);
    // With MSI-X enabled INT#x is not used.
    up.driver.enableMsix(() => ({ addressLo: 0xfee00000, addressHi: 0, data: 1 }));
    echoThrough(r, up, 0, payload);
    expect(r.pci.intxAsserted).toBe(false);
    expect(status()).toBe(0);
  });

  it('[pci.drv.30] INT#x: one ISR read reports a configuration change and used buffers together', () => {
    const r = rig({ echo: { features: featureMask(VIRTIO_F_RING_RESET) } });
    const up = bringUp(r);
    r.echo.host!.configChanged();
    echoThrough(r, up, 0, payload);
    expect(up.driver.takeInterrupt()).toEqual({ usedBuffer: true, configChange: true });
    expect(up.driver.takeInterrupt()).toEqual({ usedBuffer: false, configChange: false });
  });
});
