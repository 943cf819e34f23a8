// A transitional device: the legacy interface in I/O BAR0, driven the way a legacy driver does.
import { describe, expect, it } from 'vitest';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_F_ANY_LAYOUT,
  featureMask,
} from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { SplitDriverQueue, legacySplitLayout, type GuestAllocator } from '@virtio/ring';
import { PCI_HEADER, VIRTIO_PCI_LEGACY as L } from '../src/index.js';
import { RenumberedDevice, bringUp, echoThrough, message, rig } from './helpers.js';

const BLOCK = 2;
const payload = new Uint8Array([0xaa, 0xbb]);

function transitional(msixVectors?: number) {
  const echo = new EchoDevice({ features: featureMask(VIRTIO_F_ANY_LAYOUT) });
  return { ...rig({ device: new RenumberedDevice(echo, BLOCK), pci: { transitional: true, msixVectors } }), legacyEcho: echo };
}

/** Hands out the three parts of a legacy ring at QUEUE_PFN * 4096 in order. */
function legacyPlacement(pfn: number, size: number): GuestAllocator {
  const l = legacySplitLayout(size, 4096);
  const base = pfn * 4096;
  const addrs = [base, base + l.availOffset, base + l.usedOffset];
  return { alloc: () => addrs.shift()!, free: () => {} };
}

describe('transitional device, legacy interface', () => {
  it('presents an I/O BAR0 with the legacy register block and the I/O Space command bit', () => {
    const r = transitional();
    const bar0 = r.pci.layout.bars.find((b) => b.index === 0)!;
    expect(bar0).toMatchObject({ space: 'io', contents: 'legacy' });
    expect(bar0.size).toBeGreaterThanOrEqual(24 + 8);
    expect(r.pci.configRead(0x10, 4) & 1).toBe(1);
    r.pci.configWrite(PCI_HEADER.command, 2, 0xffff);
    expect(r.pci.configRead(PCI_HEADER.command, 2) & 1).toBe(1);
  });

  for (const msix of [false, true]) {
    it(`a legacy driver negotiates, places the queue by page frame number and echoes (MSI-X ${msix ? 'on' : 'off'})`, () => {
      const r = transitional();
      const io = {
        r: (o: number, w: 1 | 2 | 4) => r.pci.barRead(0, o, w),
        w: (o: number, w: 1 | 2 | 4, v: number) => r.pci.barWrite(0, o, w, v),
      };
      io.w(L.status, 1, 0);
      io.w(L.status, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
      const offered = io.r(L.host_features, 4);
      expect(offered).toBe(1 << VIRTIO_F_ANY_LAYOUT); // bits 0..31 only; VERSION_1 (bit 32) is out of reach
      io.w(L.guest_features, 4, offered);
      if (msix) {
        const cap = r.pci.configRead(PCI_HEADER.capabilities_pointer, 1);
        let at = cap;
        while (r.pci.configRead(at, 1) !== 0x11) at = r.pci.configRead(at + 1, 1);
        r.pci.configWrite(at + 2, 2, 0x8000);
        for (let v = 0; v < 2; v++) {
          const m = message(v);
          r.pci.barWrite(1, v * 16, 4, m.addressLo);
          r.pci.barWrite(1, v * 16 + 8, 4, m.data);
          r.pci.barWrite(1, v * 16 + 12, 4, 0);
        }
        io.w(L.config_vector, 2, 0);
        expect(io.r(L.config_vector, 2)).toBe(0);
      }
      io.w(L.queue_sel, 2, 0);
      const size = io.r(L.queue_num, 2);
      expect(size).toBe(256);
      if (msix) {
        io.w(L.queue_vector, 2, 1);
        expect(io.r(L.queue_vector, 2)).toBe(1);
      }
      const pfn = 0x40;
      const dq = new SplitDriverQueue<number>(r.memory, legacyPlacement(pfn, size), {
        size,
        features: { indirectDesc: false, eventIdx: false, inOrder: false },
      });
      io.w(L.queue_pfn, 4, pfn);
      expect(io.r(L.queue_pfn, 4)).toBe(pfn);
      io.w(L.status, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
      expect(r.pci.state.live).toBe(true);
      expect(r.pci.state.negotiatedFeatures).toBe(BigInt(offered));
      r.memory.write(0x1000, payload);
      dq.add([{ addr: 0x1000, len: 2 }], [{ addr: 0x2000, len: 2 }], 5);
      if (dq.kick()) io.w(L.queue_notify, 2, 0);
      expect(dq.reap()).toEqual({ token: 5, len: 2 });
      if (msix) {
        expect(r.msis.map((m) => m.vector)).toEqual([1]);
      } else {
        expect(io.r(L.isr, 1)).toBe(1);
        expect(r.intx).toEqual([true, false]);
      }
      // The device-specific configuration follows the header: at 24 with MSI-X, at 20 without.
      const cfg = msix ? 24 : 20;
      expect(io.r(cfg, 4)).toBe(1);
      io.w(cfg + 4, 2, 0x1234);
      expect(io.r(cfg + 4, 4)).toBe(0x1234);
      // Writing 0 to the status resets; the queue address is forgotten.
      io.w(L.status, 1, 0);
      expect(io.r(L.status, 1)).toBe(0);
      expect(io.r(L.queue_pfn, 4)).toBe(0);
    });
  }

  it('a modern driver still drives the transitional device through the capabilities', () => {
    const r = transitional();
    const up = bringUp(r, { msix: true });
    expect(up.driver.deviceId).toBe(BLOCK);
    expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
  });

  it('legacy registers of the wrong width, the MSI-X registers while MSI-X is off and bad queue addresses are ignored', () => {
    const r = transitional();
    const before = { ...r.pci.counters };
    expect(r.pci.barRead(0, L.host_features, 2)).toBe(0);
    expect(r.pci.barRead(0, L.status, 4)).toBe(0);
    r.pci.barWrite(0, L.queue_sel, 2, 9);
    r.pci.barWrite(0, L.queue_pfn, 4, 0x40); // no queue 9
    r.pci.barWrite(0, L.queue_sel, 2, 0);
    r.pci.barWrite(0, L.queue_pfn, 4, 2 ** 32 - 1); // beyond guest memory: enabled, refused at DRIVER_OK
    expect(r.pci.counters.ignoredReads - before.ignoredReads).toBe(2);
    expect(r.pci.counters.ignoredWrites - before.ignoredWrites).toBe(1);
    r.pci.barWrite(0, L.status, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
    expect(r.pci.state.status & 0x40).toBe(0x40);
    expect(r.pci.barRead(0, 100, 4)).toBe(0); // beyond the configuration
  });
});
