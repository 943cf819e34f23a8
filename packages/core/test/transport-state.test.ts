import { describe, expect, it } from 'vitest';
import { FlatGuestMemory, VirtqueueError } from '@virtio/ring';
import {
  VirtioTransportState,
  featureMask,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_CONFIG_S_FAILED as FAILED,
  VIRTIO_F_VERSION_1,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_SR_IOV,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_ADMIN_VQ,
} from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { V1, enable, live, negotiate, setup } from './state-harness.js';

describe('device status', () => {
  it('walks ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK and activates the device with the enabled queues', () => {
    const { state, device, factory } = live();
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(device.ctx?.features).toBe(V1);
    expect(device.ctx?.queues.length).toBe(2);
    expect(factory.built.map((q) => q.config.size)).toEqual([8, 8]);
    expect(factory.built[0].config).toMatchObject({ descTable: 0x1000, driverArea: 0x1400, deviceArea: 0x1800, packed: false });
  });

  it('[basic.dev.6] reinitializes device status to 0 after a reset', () => {
    const { state, device } = live();
    state.writeStatus(0);
    expect(state.status).toBe(0);
    expect(device.resets).toBe(1);
    expect(state.negotiatedFeatures).toBe(0n);
    expect(state.driverFeatures).toBe(0n);
    expect(state.queue(0)!.enabled).toBe(false);
    expect(state.queue(0)!.size).toBe(256);
  });

  it('[basic.drv.1] ignores a driver write that clears a status bit', () => {
    const { state } = setup();
    negotiate(state, V1);
    state.writeStatus(ACK | FEATURES_OK);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK);
    expect(state.counters.ignoredWrites).toBe(1);
  });

  it('acceptsStatus predicts whether a write is taken whole, and changes nothing', () => {
    const { state } = setup();
    expect(state.acceptsStatus(ACK | DRIVER)).toBe(true);
    expect(state.acceptsStatus(DRIVER)).toBe(false);
    expect(state.acceptsStatus(0x100)).toBe(false);
    state.writeStatus(ACK | DRIVER);
    // No VIRTIO_F_VERSION_1 accepted: FEATURES_OK would be refused, so would DRIVER_OK.
    expect(state.acceptsStatus(ACK | DRIVER | FEATURES_OK)).toBe(false);
    expect(state.acceptsStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK)).toBe(false);
    expect(state.acceptsStatus(ACK)).toBe(false); // clears DRIVER
    expect(state.status).toBe(ACK | DRIVER);
    state.writeDriverFeatureWord(1, 1);
    expect(state.acceptsStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK)).toBe(true);
    expect(state.status).toBe(ACK | DRIVER);
    expect(state.counters.featuresRejected).toBe(0);
  });

  it('does not set bits whose predecessors are missing (status bits out of order)', () => {
    const { state } = setup();
    state.writeStatus(DRIVER);
    expect(state.status).toBe(0);
    state.writeStatus(ACK | FEATURES_OK);
    expect(state.status).toBe(ACK);
    expect(state.counters.ignoredWrites).toBe(1);
    expect(state.counters.featuresRejected).toBe(1);
  });

  it('refuses DRIVER_OK before FEATURES_OK and does not activate', () => {
    const { state, device } = setup();
    state.writeStatus(ACK);
    state.writeStatus(ACK | DRIVER);
    state.writeDriverFeatureWord(1, 1);
    state.writeStatus(ACK | DRIVER | DRIVER_OK);
    expect(state.status).toBe(ACK | DRIVER);
    expect(device.ctx).toBeUndefined();
  });

  it('takes a single write of every bit in order', () => {
    const { state, device } = setup();
    state.writeStatus(ACK);
    state.writeStatus(ACK | DRIVER);
    state.writeDriverFeatureWord(1, 1);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(device.ctx).toBeDefined();
  });

  it('refuses DRIVER_OK after FAILED', () => {
    const { state, device } = setup();
    negotiate(state, V1);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | FAILED);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | FAILED | DRIVER_OK);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | FAILED);
    expect(device.ctx).toBeUndefined();
  });

  it('ignores a status value outside a byte instead of taking its low byte (0x100 must not reset)', () => {
    const { state, device } = live();
    state.writeStatus(0x100);
    state.writeStatus(-1);
    state.writeStatus(Number.NaN);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(device.resets).toBe(0);
    expect(state.counters.ignoredWrites).toBe(3);
  });

  it('ignores the driver setting DEVICE_NEEDS_RESET itself', () => {
    const { state } = setup();
    state.writeStatus(ACK | NEEDS_RESET);
    expect(state.status).toBe(ACK);
  });
});

describe('feature negotiation', () => {
  it('[basic.dev.3] refuses FEATURES_OK for a feature the device did not offer (bit stays clear)', () => {
    const { state } = setup();
    expect(negotiate(state, V1 | featureMask(VIRTIO_F_EVENT_IDX)) & FEATURES_OK).toBe(0);
    expect(state.counters.featuresRejected).toBe(1);
    expect(state.negotiatedFeatures).toBe(0n);
  });

  it('[basic.dev.3] refuses FEATURES_OK when the device rejects the combination, accepts a valid subset', () => {
    const { state, device } = setup({ features: featureMask(0, 1) });
    (device as { validateFeatures?: (f: bigint) => boolean }).validateFeatures = (f) => !(f & 2n) || (f & 1n) === 1n;
    expect(negotiate(state, V1 | 2n) & FEATURES_OK).toBe(0);
    state.writeStatus(0);
    expect(negotiate(state, V1 | 1n) & FEATURES_OK).toBe(FEATURES_OK);
    expect(state.negotiatedFeatures).toBe(V1 | 1n);
  });

  it('[basic.dev.3] refuses FEATURES_OK when validateFeatures throws', () => {
    const { state, device } = setup();
    (device as { validateFeatures?: (f: bigint) => boolean }).validateFeatures = () => {
      throw new Error('boom');
    };
    expect(negotiate(state, V1) & FEATURES_OK).toBe(0);
  });

  it('[basic.dev.19] refuses FEATURES_OK without VIRTIO_F_VERSION_1 on a modern device', () => {
    const { state } = setup();
    expect(negotiate(state, 0n) & FEATURES_OK).toBe(0);
  });

  it('[basic.dev.19] a modern device that does not offer VIRTIO_F_VERSION_1 is refused at construction', () => {
    const device = new EchoDevice();
    Object.defineProperty(device, 'deviceFeatures', { value: 0n });
    expect(() => new VirtioTransportState(device, { memory: new FlatGuestMemory(new Uint8Array(16)), interrupt: { usedBuffer() {}, configChange() {} }, transport: 'mmio' })).toThrow(/VERSION_1/);
  });

  it.each([30, 44, 49, 128, 200])('[basic.dev.4] a device offering reserved bit %i is refused at construction', (bit) => {
    const device = new EchoDevice();
    Object.defineProperty(device, 'deviceFeatures', { value: V1 | (1n << BigInt(bit)) });
    expect(() => new VirtioTransportState(device, { memory: new FlatGuestMemory(new Uint8Array(16)), interrupt: { usedBuffer() {}, configChange() {} }, transport: 'pci' })).toThrow(TypeError);
  });

  it.each(['mmio', 'ccw'] as const)('[basic.dev.24] a %s device must not offer VIRTIO_F_SR_IOV (PCI accepts it)', (transport) => {
    expect(() => setup({ features: featureMask(VIRTIO_F_SR_IOV), transport })).toThrow(TypeError);
    expect(() => setup({ features: featureMask(VIRTIO_F_SR_IOV), transport: 'pci' })).not.toThrow();
  });

  it('[basic.dev.4] transport-reserved features are refused: ADMIN_VQ on MMIO, RING_RESET on CCW', () => {
    expect(() => setup({ features: featureMask(VIRTIO_F_ADMIN_VQ), transport: 'mmio' })).toThrow(TypeError);
    expect(() => setup({ features: featureMask(VIRTIO_F_RING_RESET), transport: 'ccw' })).toThrow(TypeError);
    expect(() => setup({ features: featureMask(VIRTIO_F_RING_RESET), transport: 'mmio' })).not.toThrow();
  });

  it('[basic.dev.5] renegotiates the same features after a reset', () => {
    const { state } = setup({ features: featureMask(VIRTIO_F_EVENT_IDX) });
    const f = V1 | featureMask(VIRTIO_F_EVENT_IDX);
    expect(negotiate(state, f) & FEATURES_OK).toBe(FEATURES_OK);
    state.writeStatus(0);
    expect(negotiate(state, f) & FEATURES_OK).toBe(FEATURES_OK);
  });

  it('exposes offered features as 32-bit words; words past bit 127 read 0', () => {
    const { state } = setup({ features: featureMask(3) });
    expect(state.deviceFeatureWord(0)).toBe(8);
    expect(state.deviceFeatureWord(1)).toBe(1);
    expect(state.deviceFeatureWord(4)).toBe(0);
    expect(state.deviceFeatureWord(-1)).toBe(0);
  });

  it('ignores driver feature writes after FEATURES_OK and for selects past word 3', () => {
    const { state } = setup();
    negotiate(state, V1);
    state.writeDriverFeatureWord(0, 0xffff);
    state.writeDriverFeatureWord(7, 1);
    expect(state.driverFeatures).toBe(V1);
    expect(state.counters.ignoredWrites).toBe(2);
  });

  it('[basic.dev.21] passes negotiated IN_ORDER, EVENT_IDX and RING_PACKED to the queues', () => {
    const f = V1 | featureMask(VIRTIO_F_IN_ORDER, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);
    const { factory } = live(f, { features: f });
    expect(factory.built[0].config.packed).toBe(true);
    expect(factory.built[0].config.features).toEqual({ indirectDesc: false, eventIdx: true, inOrder: true });
  });
});

describe('queues and notifications', () => {
  it('[basic.dev.1] does not consume buffers before DRIVER_OK: notifications are ignored, no queue is built', () => {
    const { state, device, factory } = setup();
    negotiate(state, V1);
    enable(state, 0);
    state.notify(0);
    expect(device.notifications).toEqual([]);
    expect(factory.built).toEqual([]);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    factory.built[0].offer(3);
    state.notify(0);
    expect(factory.built[0].used).toEqual([{ id: 3, written: 0 }]);
  });

  it('ignores a notification for a non-existent or disabled queue', () => {
    const { state, device } = setup();
    negotiate(state, V1);
    enable(state, 0);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    state.notify(1);
    state.notify(5);
    state.notify(-1);
    expect(device.notifications).toEqual([]);
    expect(state.counters.ignoredWrites).toBe(3);
  });

  it('returns undefined for a non-existent queue and ignores enabling it', () => {
    const { state } = setup();
    expect(state.queue(2)).toBeUndefined();
    expect(state.queue(1.5)).toBeUndefined();
    state.enableQueue(2);
    expect(state.counters.ignoredWrites).toBe(1);
  });

  it('ignores queue configuration writes while the queue is enabled, and sizes outside 1..max', () => {
    const { state } = setup({ queueMaxSize: 16 });
    const q = state.queue(0)!;
    expect(q.setSize(32)).toBe(false);
    expect(q.setSize(0)).toBe(false);
    expect(q.setSize(12)).toBe(true);
    state.enableQueue(0);
    expect(q.setSize(8)).toBe(false);
    expect(q.setAddress('desc', 0x2000)).toBe(false);
    expect(q.setAddressHalf('device', 1, 1)).toBe(false);
    expect(q.size).toBe(12);
    expect(state.counters.ignoredWrites).toBe(5);
  });

  it('combines 32-bit address halves into a 64-bit address', () => {
    const { state } = setup();
    const q = state.queue(0)!;
    q.setAddressHalf('driver', 0, 0x89abcdef);
    q.setAddressHalf('driver', 1, 0x12);
    expect(q.driverArea).toBe(0x12_89abcdef);
    expect(q.addressHalf('driver', 1)).toBe(0x12);
  });

  it('sets DEVICE_NEEDS_RESET at DRIVER_OK when a queue address is beyond 2^53', () => {
    const { state, device, irq } = setup();
    negotiate(state, V1);
    state.queue(0)!.setAddressHalf('desc', 1, 0xffffffff);
    state.enableQueue(0);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(state.status & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(state.lastError).toBeInstanceOf(VirtqueueError);
    expect(device.ctx).toBeUndefined();
    expect(irq.config).toBe(1);
  });

  it('sets DEVICE_NEEDS_RESET at DRIVER_OK for a split queue whose size is not a power of two (real ring factory)', () => {
    const device = new EchoDevice();
    const irq = { config: 0 };
    const state = new VirtioTransportState(device, {
      memory: new FlatGuestMemory(new Uint8Array(0x10000)),
      interrupt: { usedBuffer() {}, configChange: () => irq.config++ },
      transport: 'pci',
    });
    negotiate(state, V1);
    enable(state, 0, 6);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(state.status & NEEDS_RESET).toBe(NEEDS_RESET);
    expect((state.lastError as VirtqueueError).code).toBe('bad-queue-config');
    expect(device.ctx).toBeUndefined();
    expect(irq.config).toBe(1);
  });

  it('passes the raw value to the device only when VIRTIO_F_NOTIFICATION_DATA was negotiated', () => {
    const nd = featureMask(VIRTIO_F_NOTIFICATION_DATA);
    const a = live(V1 | nd, { features: nd });
    a.state.notify(1, 0x8005_0001);
    expect(a.device.notifications).toEqual([{ queue: 1, data: 0x8005_0001 }]);
    const b = live(V1, { features: nd });
    b.state.notify(1, 0x8005_0001);
    expect(b.device.notifications).toEqual([{ queue: 1, data: undefined }]);
  });

  it('forwards used buffer notifications of a live activation', () => {
    const { state, factory, irq } = live();
    factory.built[1].offer(0);
    state.notify(1);
    expect(irq.used).toEqual([1]);
  });

  it('enables a queue after DRIVER_OK and hands it to the device', () => {
    const { state, device, factory } = setup();
    negotiate(state, V1);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(device.ctx!.queues[0]).toBeUndefined();
    enable(state, 0);
    expect(device.ctx!.queues[0]).toBeDefined();
    factory.built[0].offer(1);
    state.notify(0);
    expect(factory.built[0].used.length).toBe(1);
  });
});

describe('DEVICE_NEEDS_RESET', () => {
  it('[basic.dev.2] sets DEVICE_NEEDS_RESET and sends a configuration change notification after DRIVER_OK', () => {
    const { state, device, irq } = live();
    device.ctx!.needsReset(new VirtqueueError('chain-too-long', 'loop'));
    expect(state.status & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(irq.config).toBe(1);
    expect(state.lastError?.message).toMatch(/chain-too-long/);
  });

  it('stops handing out new chains once DEVICE_NEEDS_RESET is set', () => {
    const { state, device, factory } = live();
    device.ctx!.needsReset(new Error('x'));
    factory.built[0].offer(1);
    state.notify(0);
    expect(factory.built[0].available.length).toBe(1);
  });

  it('a device that throws from queueNotify is marked DEVICE_NEEDS_RESET instead of throwing', () => {
    const { state, device, irq } = live();
    device.queueNotify = () => {
      throw new VirtqueueError('descriptor-index-out-of-range', 'bad');
    };
    expect(() => state.notify(0)).not.toThrow();
    expect(state.status & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(irq.config).toBe(1);
  });

  it('a device that throws from activate is marked DEVICE_NEEDS_RESET', () => {
    const { state, device } = setup();
    device.activate = () => {
      throw new Error('no');
    };
    negotiate(state, V1);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK | NEEDS_RESET);
  });

  it('reset clears DEVICE_NEEDS_RESET and the device can be initialized again', () => {
    const { state, device } = live();
    device.ctx!.needsReset(new Error('x'));
    state.writeStatus(0);
    expect(state.status).toBe(0);
    expect(state.lastError).toBeUndefined();
    negotiate(state, V1);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
  });
});

describe('reset with I/O in flight', () => {
  it('[basic.dev.7] after reset, late pushes, notifications and needsReset from the old activation go nowhere', () => {
    const { state, device, factory, irq } = live(V1, { hold: true });
    factory.built[0].offer(7);
    state.notify(0);
    expect(device.held.length).toBe(1);
    const stale = device.ctx!;
    const chain = device.held[0].chain;
    state.writeStatus(0);
    stale.queues[0]!.push(chain, 4);
    stale.interrupt.usedBuffer(0);
    stale.interrupt.configChange();
    stale.needsReset(new Error('late'));
    expect(factory.built[0].used).toEqual([]);
    expect(irq.used).toEqual([]);
    expect(irq.config).toBe(0);
    expect(state.status).toBe(0);
    factory.built[0].offer(8);
    expect(stale.queues[0]!.pop()).toBeNull();
    expect(stale.queues[0]!.needsNotification()).toBe(false);
    expect(state.counters.staleQueueOps).toBe(1);
    expect(state.counters.droppedNotifications).toBe(3);
  });

  it('[basic.dev.7] a new activation after reset gets fresh queues; the old ones stay dead', () => {
    const { state, device, factory } = live();
    const stale = device.ctx!;
    state.writeStatus(0);
    negotiate(state, V1);
    enable(state, 0);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(factory.built.length).toBe(3);
    factory.built[2].offer(1);
    expect(stale.queues[0]!.pop()).toBeNull();
    state.notify(0);
    expect(factory.built[2].used).toEqual([{ id: 1, written: 0 }]);
  });
});

describe('configuration space', () => {
  it('[basic.dev.8] allows reading the configuration space before FEATURES_OK', () => {
    const { state } = setup();
    state.writeConfig(4, 4, 0xdeadbeef);
    expect(state.status).toBe(0);
    expect(state.readConfig(4, 4)).toBe(0xdeadbeef);
    expect(state.readConfig(4, 1)).toBe(0xef);
    expect(state.readConfig(6, 2)).toBe(0xdead);
  });

  it('reads 0 and ignores writes outside the configuration space or with a bad width, counting them', () => {
    const { state, device } = setup();
    const spy: number[] = [];
    device.writeConfig = (o) => void spy.push(o);
    expect(state.readConfig(6, 4)).toBe(0);
    expect(state.readConfig(8, 1)).toBe(0);
    expect(state.readConfig(-1, 1)).toBe(0);
    expect(state.readConfig(0, 3 as 1)).toBe(0);
    state.writeConfig(7, 2, 1);
    state.writeConfig(1e9, 4, 1);
    expect(spy).toEqual([]);
    expect(state.counters.badAccesses).toBe(6);
  });

  it('bumps the generation and notifies the driver when the device changes its configuration after DRIVER_OK', () => {
    const { state, device, irq } = setup();
    const g0 = state.configGeneration;
    device.host!.configChanged();
    expect(state.configGeneration).toBe(g0 + 1);
    expect(irq.config).toBe(0);
    negotiate(state, V1);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    device.host!.configChanged();
    expect(state.configGeneration).toBe(g0 + 2);
    expect(irq.config).toBe(1);
  });

  it('bumps the generation on reset', () => {
    const { state } = setup();
    const g0 = state.configGeneration;
    state.reset();
    expect(state.configGeneration).not.toBe(g0);
  });
});
