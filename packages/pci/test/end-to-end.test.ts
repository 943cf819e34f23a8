// Our driver initialises our device over PCI and moves data through the EchoDevice.
import { describe, expect, it } from 'vitest';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_F_RING_PACKED, featureMask } from '@virtio/core';
import { bringUp, echoThrough, rig } from './helpers.js';

const payload = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);

describe('PCI end to end', () => {
  for (const packed of [false, true]) {
    const layout = packed ? 'packed' : 'split';
    it(`initialises, negotiates and echoes over a ${layout} ring with MSI-X`, () => {
      const r = rig({ echo: { queues: 2, features: packed ? featureMask(VIRTIO_F_RING_PACKED) : 0n } });
      const up = bringUp(r, { msix: true });
      expect(up.driver.getStatus() & VIRTIO_CONFIG_S_DRIVER_OK).toBe(VIRTIO_CONFIG_S_DRIVER_OK);
      expect(r.pci.state.live).toBe(true);
      for (const q of [0, 1]) {
        r.msis.length = 0;
        const { used, got } = echoThrough(r, up, q, payload);
        expect(used).toEqual({ token: 7, len: payload.length });
        expect(got).toEqual(payload);
        // Queue q's used buffer notification arrives on its vector 1 + q with the message programmed there.
        expect(r.msis).toEqual([{ vector: 1 + q, addressLo: 0xfee00000, addressHi: 0, data: 0x41 + q }]);
        expect(up.driver.queuesOnVector(r.msis[0].vector)).toEqual([q]);
        expect(up.driver.takeInterrupt(r.msis[0].vector)).toEqual({ usedBuffer: true, configChange: false });
      }
      expect(r.intx).toEqual([]);
    });

    it(`echoes over a ${layout} ring with INT#x and the ISR status`, () => {
      const r = rig({ echo: { features: packed ? featureMask(VIRTIO_F_RING_PACKED) : 0n } });
      const up = bringUp(r);
      const { got } = echoThrough(r, up, 0, payload);
      expect(got).toEqual(payload);
      expect(r.intx).toEqual([true]);
      expect(up.driver.takeInterrupt()).toEqual({ usedBuffer: true, configChange: false });
      expect(r.intx).toEqual([true, false]);
      expect(r.msis).toEqual([]);
    });
  }

  it('negotiates down to what the driver asks for', () => {
    const r = rig({ echo: { features: featureMask(VIRTIO_F_RING_PACKED) } });
    const up = bringUp(r, { features: ~featureMask(VIRTIO_F_RING_PACKED) });
    expect(r.pci.state.negotiatedFeatures & featureMask(VIRTIO_F_RING_PACKED)).toBe(0n);
    expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
  });

  it('reads and writes the device-specific configuration through the device structure', () => {
    const r = rig();
    const up = bringUp(r);
    echoThrough(r, up, 0, payload);
    expect(up.driver.readConfig(0, 4)).toBe(1); // echoed count
    up.driver.writeConfig(4, 4, 0xdeadbeef);
    expect(up.driver.readConfig(4, 4)).toBe(0xdeadbeef);
    expect(up.driver.readConfig(6, 2)).toBe(0xdead);
  });
});
