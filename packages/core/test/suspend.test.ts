import { describe, expect, it } from 'vitest';
import {
  featureMask,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_SUSPEND as SUSPEND,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_F_SUSPEND,
  type VirtioDevice,
} from '@virtio/core';
import { V1, live, negotiate, setup } from './state-harness.js';

const SUS = featureMask(VIRTIO_F_SUSPEND);
const LIVE = ACK | DRIVER | FEATURES_OK | DRIVER_OK;

function suspended(opts: { hold?: boolean } = {}) {
  const s = live(V1 | SUS, { features: SUS, ...opts });
  s.state.writeStatus(LIVE | SUSPEND);
  return s;
}

describe('device suspend (VIRTIO_F_SUSPEND)', () => {
  it('suspends: SUSPEND reads 1 and DRIVER_OK 0; resumes on DRIVER_OK', () => {
    const { state } = suspended();
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | SUSPEND);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | SUSPEND | DRIVER_OK);
    expect(state.status).toBe(LIVE);
  });

  it('[basic.dev.12] ignores SUSPEND before initialization completed', () => {
    const { state } = setup({ features: SUS });
    negotiate(state, V1 | SUS);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | SUSPEND);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK);
  });

  it('[basic.dev.12] ignores SUSPEND when VIRTIO_F_SUSPEND was not negotiated', () => {
    const { state } = live(V1, { features: SUS });
    state.writeStatus(LIVE | SUSPEND);
    expect(state.status).toBe(LIVE);
  });

  it('[basic.dev.13] ignores configuration writes while suspended', () => {
    const { state } = suspended();
    state.writeConfig(4, 4, 5);
    expect(state.readConfig(4, 4)).toBe(0);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | SUSPEND | DRIVER_OK);
    state.writeConfig(4, 4, 5);
    expect(state.readConfig(4, 4)).toBe(5);
  });

  it('[basic.dev.14] takes no buffers and sends no notifications while suspended', () => {
    const { state, device, factory, irq } = suspended();
    factory.built[0].offer(1);
    state.notify(0);
    expect(device.ctx!.queues[0]!.pop()).toBeNull();
    device.ctx!.interrupt.usedBuffer(0);
    expect(factory.built[0].used).toEqual([]);
    expect(irq.used).toEqual([]);
  });

  it('[basic.dev.14] resuming processes what the driver made available meanwhile', () => {
    const { state, factory, irq } = suspended();
    factory.built[0].offer(1);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | SUSPEND | DRIVER_OK);
    expect(factory.built[0].used).toEqual([{ id: 1, written: 0 }]);
    expect(irq.used).toEqual([0]);
  });

  it('[basic.dev.15] defers configuration change notifications until resume', () => {
    const { state, device, irq } = suspended();
    device.host!.configChanged();
    expect(irq.config).toBe(0);
    state.writeStatus(ACK | DRIVER | FEATURES_OK | SUSPEND | DRIVER_OK);
    expect(irq.config).toBe(1);
  });

  it('[basic.dev.16] sets DEVICE_NEEDS_RESET when the device cannot suspend', () => {
    const { state, device, irq } = live(V1 | SUS, { features: SUS });
    (device as VirtioDevice).suspend = () => {
      throw new Error('busy');
    };
    state.writeStatus(LIVE | SUSPEND);
    expect(state.status).toBe(LIVE | NEEDS_RESET);
    expect(irq.config).toBe(1);
  });

  it('[basic.dev.17] sets DEVICE_NEEDS_RESET when the device cannot resume', () => {
    const { state, device } = suspended();
    (device as VirtioDevice).resume = () => {
      throw new Error('gone');
    };
    state.writeStatus(ACK | DRIVER | FEATURES_OK | SUSPEND | DRIVER_OK);
    expect(state.status & NEEDS_RESET).toBe(NEEDS_RESET);
  });

  it('[basic.dev.18] presents SUSPEND only once the buffers in flight were used', () => {
    const { state, device, factory, irq } = live(V1 | SUS, { features: SUS, hold: true });
    factory.built[0].offer(1);
    state.notify(0);
    state.writeStatus(LIVE | SUSPEND);
    expect(state.status).toBe(LIVE);
    device.complete();
    expect(factory.built[0].used).toEqual([{ id: 1, written: 0 }]);
    expect(irq.used).toEqual([0]);
    expect(state.status).toBe(ACK | DRIVER | FEATURES_OK | SUSPEND);
  });

  it('reset while suspended returns to status 0', () => {
    const { state } = suspended();
    state.writeStatus(0);
    expect(state.status).toBe(0);
    expect(state.suspended).toBe(false);
  });
});
