import { describe, expect, it } from 'vitest';
import {
  featureMask,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_F_RING_RESET,
} from '@virtio/core';
import { V1, enable, live } from './state-harness.js';

const RR = featureMask(VIRTIO_F_RING_RESET);

describe('virtqueue reset (VIRTIO_F_RING_RESET)', () => {
  it('[basic.dev.9] after a queue reset the device executes nothing from that queue and never notifies for it', () => {
    const { state, device, factory, irq } = live(V1 | RR, { features: RR, hold: true });
    factory.built[0].offer(1);
    state.notify(0);
    const old = device.ctx!.queues[0]!;
    const chain = device.held[0].chain;
    state.resetQueue(0);
    expect(device.held).toEqual([]);
    old.push(chain, 1);
    device.ctx!.interrupt.usedBuffer(0);
    factory.built[0].offer(2);
    state.notify(0);
    expect(old.pop()).toBeNull();
    expect(factory.built[0].used).toEqual([]);
    expect(irq.used).toEqual([]);
    expect(device.ctx!.queues[0]).toBeUndefined();
  });

  it('[basic.dev.9] leaves the other queues running', () => {
    const { state, factory } = live(V1 | RR, { features: RR });
    state.resetQueue(0);
    factory.built[1].offer(4);
    state.notify(1);
    expect(factory.built[1].used).toEqual([{ id: 4, written: 0 }]);
  });

  it('[basic.dev.10] resets the queue to its default state: disabled, max size, zero addresses, fresh rings on re-enable', () => {
    const { state, factory, device } = live(V1 | RR, { features: RR });
    state.resetQueue(0);
    const q = state.queue(0)!;
    expect({ enabled: q.enabled, size: q.size, desc: q.descTable, drv: q.driverArea, dev: q.deviceArea }).toEqual({
      enabled: false, size: 256, desc: 0, drv: 0, dev: 0,
    });
    enable(state, 0);
    expect(factory.built.length).toBe(3);
    expect(device.ctx!.queues[0]).toBeDefined();
    factory.built[2].offer(9);
    state.notify(0);
    expect(factory.built[2].used).toEqual([{ id: 9, written: 0 }]);
  });

  it('[basic.dev.11] observes the new size and addresses the driver chose when re-enabling', () => {
    const { state, factory } = live(V1 | RR, { features: RR });
    state.resetQueue(1);
    const q = state.queue(1)!;
    q.setSize(32);
    q.setAddress('desc', 0x8000);
    q.setAddress('driver', 0x9000);
    q.setAddress('device', 0xa000);
    state.enableQueue(1);
    expect(factory.built[2].config).toMatchObject({ size: 32, descTable: 0x8000, driverArea: 0x9000, deviceArea: 0xa000 });
  });

  it('is ignored when VIRTIO_F_RING_RESET was not negotiated', () => {
    const { state, factory } = live(V1, { features: RR });
    state.resetQueue(0);
    expect(state.queue(0)!.enabled).toBe(true);
    expect(state.counters.ignoredWrites).toBe(1);
    factory.built[0].offer(1);
    state.notify(0);
    expect(factory.built[0].used.length).toBe(1);
  });

  it('disableQueue stops a queue but keeps its configuration', () => {
    const { state, factory } = live();
    state.disableQueue(0);
    expect(state.queue(0)!.enabled).toBe(false);
    expect(state.queue(0)!.size).toBe(8);
    factory.built[0].offer(1);
    state.notify(0);
    expect(factory.built[0].used).toEqual([]);
    state.disableQueue(0);
    expect(state.counters.ignoredWrites).toBe(2);
  });

  it('a queue reset before DRIVER_OK just clears the configuration', () => {
    const { state } = live(V1 | RR, { features: RR });
    state.writeStatus(0);
    state.writeStatus(ACK);
    state.writeStatus(ACK | DRIVER);
    state.writeDriverFeatureWord(1, Number((V1 | RR) >> 32n));
    state.writeStatus(ACK | DRIVER | FEATURES_OK);
    enable(state, 0);
    state.resetQueue(0);
    expect(state.queue(0)!.enabled).toBe(false);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(state.status & DRIVER_OK).toBe(DRIVER_OK);
  });
});
