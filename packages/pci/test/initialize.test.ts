// Core's driver initialization sequence (spec 3.1.1) over PciDriverTransport.
import { describe, expect, it } from 'vitest';
import { VIRTIO_F_RING_PACKED, VIRTIO_F_VERSION_1, featureMask, initializeDevice } from '@virtio/core';
import { BumpAllocator } from '@virtio/ring';
import { COMMON_CFG as C, PciDriverTransport, VIRTIO_PCI_CAP_ISR_CFG } from '../src/index.js';
import { BUF_BASE, MEM_SIZE, RING_BASE, commonCfg, message, recorder, rig, virtioCap } from './helpers.js';

const payload = new Uint8Array([10, 20, 30]);

function init(r: ReturnType<typeof rig>, driver: PciDriverTransport, queues: number) {
  return initializeDevice(driver, {
    memory: r.memory,
    allocator: new BumpAllocator(RING_BASE, MEM_SIZE - RING_BASE),
    wantedFeatures: featureMask(VIRTIO_F_VERSION_1, VIRTIO_F_RING_PACKED),
    queues: Array.from({ length: queues }, (_, index) => ({ index, size: 64 })),
  });
}

function send(r: ReturnType<typeof rig>, dev: ReturnType<typeof init>, q: number) {
  r.memory.write(BUF_BASE, payload);
  dev.queues[q]!.add([{ addr: BUF_BASE, len: payload.length }], [{ addr: BUF_BASE + 0x100, len: payload.length }], q);
  dev.kick(q);
}

describe('initializeDevice over PCI', () => {
  for (const packed of [false, true]) {
    it(`[pci.drv.21] brings the device up with MSI-X vectors chosen from the Table Size (${packed ? 'packed' : 'split'})`, () => {
      const r = rig({ echo: { queues: 3, features: packed ? featureMask(VIRTIO_F_RING_PACKED) : 0n } });
      const driver = new PciDriverTransport(r.pci);
      driver.enableMsix(message);
      const dev = init(r, driver, 3);
      expect(r.pci.state.live).toBe(true);
      expect(r.pci.state.negotiatedFeatures & featureMask(VIRTIO_F_RING_PACKED)).toBe(packed ? featureMask(VIRTIO_F_RING_PACKED) : 0n);
      // 4 vectors for 3 queues: configuration on 0, queue i on 1 + i.
      const cc = commonCfg(r.pci);
      expect(cc.read(C.config_msix_vector, 2)).toBe(0);
      for (let q = 0; q < 3; q++) {
        cc.write(C.queue_select, 2, q);
        expect(cc.read(C.queue_msix_vector, 2)).toBe(1 + q);
      }
      send(r, dev, 2);
      expect(r.msis.map((m) => m.vector)).toEqual([3]);
      expect(dev.queues[2]!.reap()).toEqual({ token: 2, len: payload.length });
      const got = new Uint8Array(payload.length);
      r.memory.read(BUF_BASE + 0x100, got);
      expect(got).toEqual(payload);
    });
  }

  it('[pci.drv.21] shares one vector between the queues when the table is smaller', () => {
    const r = rig({ echo: { queues: 3 }, pci: { msixVectors: 2 } });
    const driver = new PciDriverTransport(r.pci);
    driver.enableMsix(message);
    init(r, driver, 3);
    expect(driver.queuesOnVector(1)).toEqual([0, 1, 2]);
    expect(driver.queuesOnVector(0)).toEqual([]);
  });

  it('[pci.drv.17] with MSI-X an interrupt is handled without touching the ISR status', () => {
    const r = rig();
    const { access, log } = recorder(r.pci);
    const driver = new PciDriverTransport(access);
    driver.enableMsix(message);
    const dev = init(r, driver, 1);
    send(r, dev, 0);
    log.length = 0;
    expect(dev.handleInterrupt()).toEqual({ usedBuffer: true, configChange: true, needsReset: false });
    expect(driver.takeInterrupt(r.msis[0].vector)).toEqual({ usedBuffer: true, configChange: false });
    const isr = virtioCap(r.pci, VIRTIO_PCI_CAP_ISR_CFG)!;
    expect(log.filter((a) => a.kind === 'barR' && a.bar === isr.bar && a.offset === isr.offset)).toEqual([]);
  });

  it('with INT#x, DriverDevice.handleInterrupt reads the causes from the ISR and sees DEVICE_NEEDS_RESET', () => {
    const r = rig();
    const dev = init(r, new PciDriverTransport(r.pci), 1);
    send(r, dev, 0);
    expect(r.pci.intxAsserted).toBe(true);
    expect(dev.handleInterrupt()).toEqual({ usedBuffer: true, configChange: false, needsReset: false });
    expect(r.pci.intxAsserted).toBe(false);
    // A broken ring: the device sets DEVICE_NEEDS_RESET and raises a configuration interrupt.
    r.memory.writeU16(dev.queues[0]!.config.driverArea + 2, 0x8000);
    r.pci.queueNotify(0);
    expect(r.pci.intxAsserted).toBe(true);
    expect(dev.handleInterrupt()).toMatchObject({ needsReset: true });
  });
});
