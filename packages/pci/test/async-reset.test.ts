// Resets that wait for the device's in-flight work, as the PCI registers present them.
import { describe, expect, it } from 'vitest';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_RING_RESET,
  featureMask,
  resetDeviceAsync,
} from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { COMMON_CFG as C, PciDriverTransport } from '../src/index.js';
import { RenumberedDevice, TEST_DEVICE_ID, bringUp, commonCfg, echoThrough, rig } from './helpers.js';

const LIVE = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

/** An echo device whose resets finish only when the test calls the release functions. */
class SlowResets extends RenumberedDevice {
  readonly resets: (() => void)[] = [];
  readonly queueResets: (() => void)[] = [];
  constructor(echo: EchoDevice) {
    super(echo, TEST_DEVICE_ID);
  }
  override reset(): Promise<void> {
    this.inner.reset();
    return new Promise((resolve) => this.resets.push(resolve));
  }
  override resetQueue(i: number): Promise<void> {
    this.inner.resetQueue?.(i);
    return new Promise((resolve) => this.queueResets.push(resolve));
  }
}

function slowRig() {
  const echo = new EchoDevice({ features: featureMask(VIRTIO_F_RING_RESET), queues: 2, queueMaxSize: 64 });
  const device = new SlowResets(echo);
  const r = rig({ device });
  const up = (opts: Parameters<typeof bringUp>[1]) => {
    const u = bringUp(r, opts);
    device.resets.length = 0; // bringUp's own reset, at status 0, completed at once
    return u;
  };
  return { ...r, echo, slow: device, up };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('device reset under way', () => {
  it('[pci.dev.13] device_status keeps its old value until the device finished resetting, then presents 0', async () => {
    const r = slowRig();
    r.up({ msix: true });
    const cc = commonCfg(r.pci);
    cc.write(C.device_status, 1, 0);
    expect(cc.read(C.device_status, 1)).toBe(LIVE);
    await settle();
    expect(cc.read(C.device_status, 1)).toBe(LIVE);
    r.slow.resets[0]();
    await settle();
    expect(cc.read(C.device_status, 1)).toBe(0);
  });

  it('[pci.dev.13] ignores and counts driver writes to the common configuration while resetting', async () => {
    const r = slowRig();
    r.up({ msix: true });
    const cc = commonCfg(r.pci);
    cc.write(C.device_status, 1, 0);
    const before = r.pci.counters.ignoredWrites;
    cc.write(C.queue_select, 2, 1);
    cc.write(C.device_status, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    cc.write(C.config_msix_vector, 2, 3);
    expect(r.pci.counters.ignoredWrites - before).toBe(3);
    expect(cc.read(C.queue_select, 2)).toBe(0);
    expect(r.slow.resets.length).toBe(1);
    r.slow.resets[0]();
    await settle();
    expect(cc.read(C.device_status, 1)).toBe(0);
    // Usable again after re-initialisation.
    const up = r.up({ msix: true });
    expect(echoThrough(r, up, 0, new Uint8Array([7])).got).toEqual(new Uint8Array([7]));
  });

  it('[basic.drv.7] the driver side, polling device_status without blocking, completes only once it reads 0', async () => {
    const r = slowRig();
    r.up({ msix: true });
    const driver = new PciDriverTransport(r.pci);
    let done = false;
    const reset = resetDeviceAsync(driver, { pause: settle }).then(() => (done = true));
    await settle();
    await settle();
    expect(done).toBe(false);
    r.slow.resets[0]();
    await reset;
    expect(driver.getStatus()).toBe(0);
  });
});

describe('queue reset under way', () => {
  it('[pci.dev.17] queue_reset reads 1 while the queue reset is ongoing, then 0 in queue_reset and queue_enable', async () => {
    const r = slowRig();
    r.up({ msix: true, queueSize: 16 });
    const cc = commonCfg(r.pci);
    cc.write(C.queue_select, 2, 1);
    cc.write(C.queue_reset, 2, 1);
    expect(cc.read(C.queue_reset, 2)).toBe(1);
    expect(cc.read(C.queue_enable, 2)).toBe(1);
    // The queue's configuration is not the driver's to change yet.
    cc.write(C.queue_size, 2, 8);
    expect(cc.read(C.queue_size, 2)).toBe(16);
    cc.write(C.queue_reset, 2, 1);
    expect(r.slow.queueResets.length).toBe(1);
    await settle();
    expect(cc.read(C.queue_reset, 2)).toBe(1);
    r.slow.queueResets[0]();
    await settle();
    expect(cc.read(C.queue_reset, 2)).toBe(0);
    expect(cc.read(C.queue_enable, 2)).toBe(0);
    expect(cc.read(C.queue_size, 2)).toBe(64);
    // Queue 0 kept running throughout.
    cc.write(C.queue_select, 2, 0);
    expect(cc.read(C.queue_reset, 2)).toBe(0);
    expect(cc.read(C.queue_enable, 2)).toBe(1);
  });

  it('[pci.drv.15] the driver side does not consider the queue reset complete while queue_reset reads 1', async () => {
    const r = slowRig();
    const up = r.up({ msix: true, queueSize: 16 });
    const driver = new PciDriverTransport(r.pci, { queueResetPolls: 5 });
    expect(driver.resetQueue(1)).toBe(false);
    r.slow.queueResets[0]();
    await settle();
    expect(up.driver.queueEnabled(1)).toBe(false);
  });
});
