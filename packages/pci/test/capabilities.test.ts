// The virtio structure capabilities and the layout of the BAR they point into.
import { describe, expect, it } from 'vitest';
import { VIRTIO_F_NOTIFICATION_DATA, featureMask } from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import {
  VIRTIO_PCI_CAP_COMMON_CFG,
  VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_NOTIFY_CFG,
  VIRTIO_PCI_CAP_PCI_CFG,
  VIRTIO_PCI_CAP_SHARED_MEMORY_CFG,
} from '../src/index.js';
import { RenumberedDevice, TEST_DEVICE_ID, capList, commonCfg, rig, virtioCap } from './helpers.js';

const types = (r: ReturnType<typeof rig>) => capList(r.pci).filter((c) => c.id === 0x09).map((c) => c.cfgType);

function barSize(r: ReturnType<typeof rig>, bar: number): number {
  return r.pci.layout.bars.find((b) => b.index === bar)!.size;
}

describe('virtio structure capabilities', () => {
  it('[pci.dev.9] [pci.dev.21] [pci.dev.30] [pci.dev.38] presents common, notify, ISR and PCI configuration access capabilities', () => {
    const r = rig();
    const t = types(r);
    for (const type of [VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_PCI_CFG]) {
      expect(t).toContain(type);
    }
    // The structures they point at answer: num_queues through common, ISR readable.
    expect(commonCfg(r.pci).read(0x12, 2)).toBe(1);
    const isr = virtioCap(r.pci, VIRTIO_PCI_CAP_ISR_CFG)!;
    expect(isr.length).toBeGreaterThanOrEqual(1);
    expect(r.pci.barRead(isr.bar, isr.offset, 1)).toBe(0);
  });

  it('[pci.dev.6] cap_len covers the structure and its extra data', () => {
    const r = rig({ device: new RenumberedDevice(new EchoDevice(), TEST_DEVICE_ID, [{ id: 1, size: 0x10000 }]) });
    const expected: Record<number, number> = { 1: 16, 2: 20, 3: 16, 4: 16, 5: 20, 8: 24 };
    const caps = capList(r.pci).filter((c) => c.id === 0x09);
    expect(caps.map((c) => c.cfgType).sort()).toEqual([1, 2, 3, 4, 5, 8]);
    for (const c of caps) expect(r.pci.configRead(c.at + 2, 1)).toBeGreaterThanOrEqual(expected[c.cfgType]);
    // Each capability ends before the next one starts.
    const all = capList(r.pci);
    for (let i = 0; i + 1 < all.length; i++) {
      const len = all[i].id === 0x09 ? r.pci.configRead(all[i].at + 2, 1) : 12;
      expect(all[i].at + len).toBeLessThanOrEqual(all[i + 1].at);
    }
  });

  it('[pci.dev.8] [pci.dev.35] the common and device-specific configuration offsets are 4-byte aligned', () => {
    const r = rig();
    const common = virtioCap(r.pci, VIRTIO_PCI_CAP_COMMON_CFG)!;
    const device = virtioCap(r.pci, VIRTIO_PCI_CAP_DEVICE_CFG)!;
    expect(common.offset % 4).toBe(0);
    expect(device.offset % 4).toBe(0);
    expect(common.length).toBeGreaterThanOrEqual(0x40);
    expect(device.length).toBe(8);
    expect(common.offset + common.length).toBeLessThanOrEqual(barSize(r, common.bar));
  });

  for (const nd of [false, true]) {
    const tag = nd
      ? '[pci.dev.26] [pci.dev.27] [pci.dev.28] [pci.dev.29] with VIRTIO_F_NOTIFICATION_DATA'
      : '[pci.dev.22] [pci.dev.23] [pci.dev.24] [pci.dev.25] without VIRTIO_F_NOTIFICATION_DATA';
    for (const multiplier of [0, 4, 4096]) {
      it(`${tag}: notify offset, multiplier ${multiplier} and length fit every queue`, () => {
        const r = rig({
          echo: { queues: 5, features: nd ? featureMask(VIRTIO_F_NOTIFICATION_DATA) : 0n },
          pci: { notifyOffMultiplier: multiplier },
        });
        const n = virtioCap(r.pci, VIRTIO_PCI_CAP_NOTIFY_CFG)!;
        const mult = n.extra;
        expect(mult).toBe(multiplier);
        expect(n.offset % (nd ? 4 : 2)).toBe(0);
        expect(mult === 0 || (mult % 4 === 0 && (mult & (mult - 1)) === 0)).toBe(true);
        expect(n.length).toBeGreaterThanOrEqual(nd ? 4 : 2);
        const cc = commonCfg(r.pci);
        for (let q = 0; q < 5; q++) {
          cc.write(0x16, 2, q);
          const off = cc.read(0x1e, 2);
          expect(n.length).toBeGreaterThanOrEqual(off * mult + (nd ? 4 : 2));
        }
        expect(n.offset + n.length).toBeLessThanOrEqual(barSize(r, n.bar));
      });
    }
  }

  it('[pci.dev.23] refuses a notify_off_multiplier that is not 0 or a power of two multiple of 4', () => {
    for (const m of [1, 2, 6, 12, -4, 0.5]) expect(() => rig({ pci: { notifyOffMultiplier: m } })).toThrow(RangeError);
  });

  it('[pci.dev.36] [pci.dev.37] shared memory regions: one virtio_pci_cap64 each, unique ids, inside their BAR', () => {
    const regions = [
      { id: 0, size: 0x1000 },
      { id: 5, size: 6 * 2 ** 30 },
      { id: 2, size: 0x3000 },
    ];
    const r = rig({ device: new RenumberedDevice(new EchoDevice(), TEST_DEVICE_ID, regions) });
    const caps = capList(r.pci).filter((c) => c.id === 0x09 && c.cfgType === VIRTIO_PCI_CAP_SHARED_MEMORY_CFG);
    expect(caps).toHaveLength(3);
    const seen = new Set<number>();
    for (const c of caps) {
      const id = r.pci.configRead(c.at + 5, 1);
      const bar = r.pci.configRead(c.at + 4, 1);
      const offset = r.pci.configRead(c.at + 16, 4) * 2 ** 32 + r.pci.configRead(c.at + 8, 4);
      const length = r.pci.configRead(c.at + 20, 4) * 2 ** 32 + r.pci.configRead(c.at + 12, 4);
      seen.add(id);
      expect(length).toBe(regions.find((x) => x.id === id)!.size);
      expect(offset + length).toBeLessThanOrEqual(barSize(r, bar));
    }
    expect(seen.size).toBe(3);
    const shm = r.pci.layout.bars.find((b) => b.contents === 'shared-memory')!;
    expect(shm).toMatchObject({ is64: true, prefetchable: true });
    expect(() => rig({ device: new RenumberedDevice(new EchoDevice(), TEST_DEVICE_ID, [{ id: 1, size: 1 }, { id: 1, size: 2 }]) })).toThrow(
      RangeError,
    );
  });
});
