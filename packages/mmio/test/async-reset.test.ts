// Resets that wait for the device's in-flight work, as the MMIO registers present them.
import { describe, expect, it } from 'vitest';
import {
  featureMask,
  resetDeviceAsync,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_F_RING_RESET,
} from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { FlatGuestMemory } from '@virtio/ring';
import { MmioReg, MmioTransport, probeMmio } from '@virtio/mmio';

const LIVE = ACK | DRIVER | FEATURES_OK | DRIVER_OK;
const RR = featureMask(VIRTIO_F_RING_RESET);
const V1 = 1n << 32n;

/** An echo device whose resets finish only when the test calls the release functions. */
class SlowResets extends EchoDevice {
  readonly resetGates: (() => void)[] = [];
  readonly queueResets: (() => void)[] = [];
  override reset(): Promise<void> {
    super.reset();
    return new Promise((resolve) => this.resetGates.push(resolve));
  }
  override resetQueue(i: number): Promise<void> {
    super.resetQueue(i);
    return new Promise((resolve) => this.queueResets.push(resolve));
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** A live device with queues 0 and 1 ready, brought up through the registers. */
function live() {
  const device = new SlowResets({ features: RR, queues: 2 });
  const tr = new MmioTransport(device, { memory: new FlatGuestMemory(new Uint8Array(0x40000)) });
  tr.write(MmioReg.Status, 4, ACK);
  tr.write(MmioReg.Status, 4, ACK | DRIVER);
  tr.write(MmioReg.DriverFeaturesSel, 4, 0);
  tr.write(MmioReg.DriverFeatures, 4, Number(RR & 0xffffffffn));
  tr.write(MmioReg.DriverFeaturesSel, 4, 1);
  tr.write(MmioReg.DriverFeatures, 4, Number((V1 | RR) >> 32n));
  tr.write(MmioReg.Status, 4, ACK | DRIVER | FEATURES_OK);
  for (const index of [0, 1]) {
    const base = 0x10000 + index * 0x1000;
    tr.write(MmioReg.QueueSel, 4, index);
    tr.write(MmioReg.QueueSize, 4, 8);
    tr.write(MmioReg.QueueDescLow, 4, base);
    tr.write(MmioReg.QueueDriverLow, 4, base + 0x200);
    tr.write(MmioReg.QueueDeviceLow, 4, base + 0x400);
    tr.write(MmioReg.QueueReady, 4, 1);
  }
  tr.write(MmioReg.Status, 4, LIVE);
  if (tr.read(MmioReg.Status, 4) !== LIVE) throw new Error('not live');
  return { device, tr };
}

describe('MMIO resets under way', () => {
  it('[basic.dev.7] Status keeps its old value until the device finished resetting, then reads 0; writes meanwhile are ignored', async () => {
    const { device, tr } = live();
    tr.write(MmioReg.Status, 4, 0);
    expect(tr.read(MmioReg.Status, 4)).toBe(LIVE);
    const before = tr.counters.ignoredWrites;
    tr.write(MmioReg.QueueSel, 4, 1);
    tr.write(MmioReg.Status, 4, ACK);
    expect(tr.counters.ignoredWrites - before).toBe(2);
    await settle();
    expect(tr.read(MmioReg.Status, 4)).toBe(LIVE);
    device.resetGates[0]();
    await settle();
    expect(tr.read(MmioReg.Status, 4)).toBe(0);
    expect(tr.read(MmioReg.QueueSel, 4)).toBe(0);
  });

  it('[basic.drv.7] the driver side completes the reset only once Status reads 0', async () => {
    const { device, tr } = live();
    const probe = probeMmio(tr);
    if (!probe.ok) throw new Error(probe.reason);
    let done = false;
    const reset = resetDeviceAsync(probe.transport, { pause: settle }).then(() => (done = true));
    await settle();
    await settle();
    expect(done).toBe(false);
    device.resetGates[0]();
    await reset;
    expect(tr.read(MmioReg.Status, 4)).toBe(0);
  });

  it('[mmio.dev.9] QueueReset reads 1 while the queue reset is ongoing, then 0 in QueueReset and QueueReady', async () => {
    const { device, tr } = live();
    tr.write(MmioReg.QueueSel, 4, 1);
    tr.write(MmioReg.QueueReset, 4, 1);
    expect(tr.read(MmioReg.QueueReset, 4)).toBe(1);
    expect(tr.read(MmioReg.QueueReady, 4)).toBe(1);
    tr.write(MmioReg.QueueSize, 4, 4);
    expect(tr.state.queue(1)!.size).toBe(8);
    await settle();
    expect(tr.read(MmioReg.QueueReset, 4)).toBe(1);
    device.queueResets[0]();
    await settle();
    expect(tr.read(MmioReg.QueueReset, 4)).toBe(0);
    expect(tr.read(MmioReg.QueueReady, 4)).toBe(0);
    tr.write(MmioReg.QueueSel, 4, 0);
    expect(tr.read(MmioReg.QueueReady, 4)).toBe(1);
  });
});
