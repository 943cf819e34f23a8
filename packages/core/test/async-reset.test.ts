// Resets that wait for in-flight work: a device's reset() / resetQueue() returning a promise.
import { describe, expect, it } from 'vitest';
import { FlatGuestMemory } from '@virtio/ring';
import {
  DeviceInitError,
  DriverDevice,
  featureMask,
  resetDevice,
  resetDeviceAsync,
  VirtioTransportState,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_F_RING_RESET,
} from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { fakeFactory } from './fake-queue.js';
import { enable, negotiate, V1 } from './state-harness.js';
import { DeferredResetDevice, settle } from './deferred-device.js';

const RR = featureMask(VIRTIO_F_RING_RESET);
const LIVE = ACK | DRIVER | FEATURES_OK | DRIVER_OK;

function live(features = V1 | RR) {
  const device = new DeferredResetDevice({ features, queues: 2, hold: true });
  const irq = { used: [] as number[], config: 0 };
  const factory = fakeFactory();
  const state = new VirtioTransportState(device, {
    memory: new FlatGuestMemory(new Uint8Array(0x10000)),
    interrupt: { usedBuffer: (i) => irq.used.push(i), configChange: () => irq.config++ },
    transport: 'mmio',
    createQueue: factory.create,
  });
  negotiate(state, features);
  enable(state, 0);
  enable(state, 1);
  state.writeStatus(LIVE);
  return { device, irq, factory, state };
}

describe('device reset waiting for in-flight work', () => {
  it('[basic.dev.7] keeps presenting the old status until the device reset settles, then 0; nothing from before reaches the driver', async () => {
    const { device, irq, factory, state } = live();
    factory.built[0].offer(1);
    state.notify(0);
    const { chain } = device.held[0];
    const old = device.ctx!;
    const g0 = state.configGeneration;
    state.writeStatus(0);
    expect(state.resetPending).toBe(true);
    expect(state.status).toBe(LIVE);
    expect(state.live).toBe(false);
    expect(state.configGeneration).toBe(g0);
    // Late work from before the reset: dropped while the reset is under way ...
    old.queues[0]!.push(chain, 4);
    old.interrupt.usedBuffer(0);
    device.host!.configChanged();
    await settle();
    expect(state.status).toBe(LIVE);
    device.resetGates[0].resolve();
    await settle();
    expect(state.resetPending).toBe(false);
    expect(state.status).toBe(0);
    expect(state.configGeneration).not.toBe(g0);
    // ... and after it completed.
    old.queues[0]!.push(chain, 4);
    old.interrupt.usedBuffer(0);
    old.interrupt.configChange();
    expect(factory.built[0].used).toEqual([]);
    expect(irq).toEqual({ used: [], config: 0 });
  });

  it('ignores and counts every driver write while the reset is under way; the device comes back in its initial state', async () => {
    const { device, factory, state } = live();
    state.writeStatus(0);
    const ignored = state.counters.ignoredWrites;
    state.writeStatus(0);
    state.writeStatus(ACK);
    state.writeDriverFeatureWord(0, 1);
    const q = state.queue(0)!;
    expect(q.setSize(4)).toBe(false);
    expect(q.setAddress('desc', 0x8000)).toBe(false);
    expect(q.setAddressHalf('driver', 0, 0x9000)).toBe(false);
    state.enableQueue(0);
    state.disableQueue(1);
    state.resetQueue(1);
    state.notify(0);
    state.writeConfig(4, 4, 0x1234);
    expect(state.counters.ignoredWrites - ignored).toBe(11);
    expect(device.resetGates.length).toBe(1); // the second 0 did not reset again
    expect(state.status).toBe(LIVE);
    expect(state.readConfig(4, 4)).toBe(0);
    device.resetGates[0].resolve();
    await state.whenResetComplete();
    expect(state.status).toBe(0);
    expect(state.driverFeatures).toBe(0n);
    expect({ enabled: q.enabled, size: q.size, desc: q.descTable, driver: q.driverArea }).toEqual({ enabled: false, size: 256, desc: 0, driver: 0 });
    expect(state.queue(1)!.enabled).toBe(false);
    // Initialization works again, on fresh queues.
    negotiate(state, V1);
    enable(state, 0);
    state.writeStatus(LIVE);
    expect(state.status).toBe(LIVE);
    expect(factory.built.length).toBe(3);
  });

  it('a rejected reset also completes the reset, with the device cut off', async () => {
    const { device, factory, irq, state } = live();
    factory.built[0].offer(1);
    state.notify(0);
    const { chain } = device.held[0];
    const old = device.ctx!;
    state.writeStatus(0);
    device.resetGates[0].reject(new Error('backend gone'));
    await state.whenResetComplete();
    expect(state.status).toBe(0);
    old.queues[0]!.push(chain, 1);
    old.interrupt.usedBuffer(0);
    expect(factory.built[0].used).toEqual([]);
    expect(irq.used).toEqual([]);
  });

  it('a device whose reset() returns nothing resets at once; a promise, even a settled one, completes the reset when it settles', async () => {
    const { device, state } = live();
    device.deferReset = false;
    expect(state.reset()).toBe(true);
    expect(state.status).toBe(0);
    state.writeStatus(ACK);
    device.reset = () => Promise.resolve();
    expect(state.reset()).toBe(false);
    expect(state.status).toBe(ACK);
    await settle();
    expect(state.status).toBe(0);
  });
});

describe('reset at status 0', () => {
  it('completes at once even when the device returns a pending promise: nothing was activated since the last reset', () => {
    const device = new DeferredResetDevice({ queues: 1 });
    const state = new VirtioTransportState(device, {
      memory: new FlatGuestMemory(new Uint8Array(0x1000)),
      interrupt: { usedBuffer() {}, configChange() {} },
      transport: 'mmio',
    });
    expect(state.reset()).toBe(true);
    expect(state.resetPending).toBe(false);
    state.writeStatus(ACK);
    expect(state.status).toBe(ACK);
  });
});

describe('queue reset waiting for in-flight work', () => {
  it('keeps the queue "reset under way" until the device settles it: enabled, configuration locked, notifications ignored', async () => {
    const { device, factory, irq, state } = live();
    factory.built[0].offer(1);
    state.notify(0);
    const { chain } = device.held[0];
    const old = device.ctx!.queues[0]!;
    const q = state.queue(0)!;
    expect(state.resetQueue(0)).toBe(false);
    expect(q.resetting).toBe(true);
    expect(q.enabled).toBe(true);
    expect(q.setSize(4)).toBe(false);
    state.enableQueue(0);
    factory.built[0].offer(2);
    state.notify(0);
    expect(device.held.length).toBe(0); // the device dropped it and took nothing new
    expect(state.resetQueue(0)).toBe(false); // already under way
    expect(device.queueGates.length).toBe(1);
    old.push(chain, 3);
    device.queueGates[0].gate.resolve();
    await state.whenResetComplete();
    expect(q.resetting).toBe(false);
    expect({ enabled: q.enabled, size: q.size, desc: q.descTable }).toEqual({ enabled: false, size: 256, desc: 0 });
    expect(factory.built[0].used).toEqual([]);
    expect(irq.used).toEqual([]);
    enable(state, 0);
    expect(device.ctx!.queues[0]).toBeDefined();
    factory.built[2].offer(5);
    state.notify(0);
    expect(device.held.map((h) => h.chain.id)).toEqual([5]);
  });

  it('a rejected queue reset completes it and sets DEVICE_NEEDS_RESET', async () => {
    const { device, irq, state } = live();
    state.resetQueue(1);
    device.queueGates[0].gate.reject(new Error('stuck'));
    await state.whenResetComplete();
    expect(state.queue(1)!.resetting).toBe(false);
    expect(state.queue(1)!.enabled).toBe(false);
    expect(state.status & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(irq.config).toBe(1);
  });

  it('a device reset takes over a queue reset under way: the late queue promise changes nothing', async () => {
    const { device, state } = live();
    state.resetQueue(0);
    state.writeStatus(0);
    device.queueGates[0].gate.resolve();
    await settle();
    expect(state.resetPending).toBe(true);
    expect(state.queue(0)!.setSize(4)).toBe(false);
    device.resetGates[0].resolve();
    await state.whenResetComplete();
    expect(state.status).toBe(0);
    expect(state.queue(0)!.resetting).toBe(false);
    expect(state.queue(0)!.setSize(4)).toBe(true);
  });
});

describe('driver side: waiting for the reset to complete', () => {
  function driverRig() {
    const device = new DeferredResetDevice({ features: RR, queues: 1 });
    const memory = new FlatGuestMemory(new Uint8Array(0x10000));
    const t = new LoopbackTransport(device, { memory, transport: 'mmio' });
    t.setStatus(ACK);
    return { device, t };
  }

  it('[basic.drv.7] resetDeviceAsync settles only after device status reads 0', async () => {
    const { device, t } = driverRig();
    let done = false;
    const reset = resetDeviceAsync(t, { pause: () => settle(1) }).then(() => (done = true));
    await settle(20);
    expect(done).toBe(false);
    expect(t.getStatus()).toBe(ACK);
    device.resetGates[0].resolve();
    await reset;
    expect(t.getStatus()).toBe(0);
  });

  it('[basic.drv.7] resetDeviceAsync gives up after its polls with reset-timeout', async () => {
    const { t } = driverRig();
    let reads = 0;
    const counting = Object.assign(Object.create(t) as LoopbackTransport, {
      getStatus: () => (reads++, t.getStatus()),
    });
    await expect(resetDeviceAsync(counting, { polls: 7, pause: () => settle(1) })).rejects.toMatchObject({ code: 'reset-timeout' });
    expect(reads).toBe(7);
  });

  it('the synchronous resetDevice cannot wait for a device in the same thread: reset-timeout', () => {
    const { t } = driverRig();
    expect(() => resetDevice(t)).toThrow(DeviceInitError);
  });

  it('DriverDevice.resetAsync waits with the default timer pause', async () => {
    const { device, t } = driverRig();
    const dev = new DriverDevice(t, 0n, []);
    const reset = dev.resetAsync();
    await settle();
    device.resetGates[0].resolve();
    await reset;
    expect(t.getStatus()).toBe(0);
  });
});
