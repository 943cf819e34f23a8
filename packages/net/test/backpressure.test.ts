// No receive buffers posted: the device pauses its backend and keeps every frame it accepted;
// the driver posting buffers (an available buffer notification) resumes delivery, in order.
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import { NET_DRIVER_FEATURES, VIRTIO_NET_F_MRG_RXBUF, type NetBackend, type NetReceiver } from '../src/index.js';
import { ethFrame, rig, RING_MODES } from './harness.js';

describe.each(RING_MODES)('back-pressure over $name', ({ ring }) => {
  for (const mrg of [true, false]) {
    it(`${mrg ? 'with' : 'without'} MRG_RXBUF: pauses the backend when the receive queue is empty, loses nothing`, () => {
      const features = mrg ? NET_DRIVER_FEATURES : NET_DRIVER_FEATURES & ~featureMask(VIRTIO_NET_F_MRG_RXBUF);
      const r = rig({ ring, driverFeatures: features, queueSize: 8, manualInterrupts: true });
      const frames = Array.from({ length: 50 }, (_, i) => ethFrame(60 + i * 20, i + 1));
      for (const f of frames) r.callback.deliver(f);
      // 8 buffers: the rest waits in the device (accepted) or in the backend (paused).
      expect(r.callback.paused).toBe(true);
      expect(r.device.pendingFrames + r.callback.queued).toBe(50 - 8);
      expect(r.device.stats.rxErrors + r.device.stats.rxFiltered).toBe(0);
      for (let i = 0; i < 20 && r.received.length < 50; i++) r.driver.handleInterrupt();
      expect(r.received.map((x) => x.frame)).toEqual(frames);
      expect(r.callback.paused).toBe(false);
      expect(r.device.pendingFrames).toBe(0);
    });
  }

  it('frames a backend delivers while paused are queued by the device, not dropped', () => {
    let receiver: NetReceiver | undefined;
    let pauses = 0;
    const rude: NetBackend = {
      vnetHeader: false,
      send: () => {},
      start: (r) => (receiver = r),
      pause: () => void pauses++,
      resume: () => {},
      close: () => {},
    };
    const r = rig({ ring, queueSize: 4, manualInterrupts: true, backend: rude });
    for (let i = 0; i < 10; i++) receiver!(ethFrame(100, i), null);
    expect(pauses).toBeGreaterThan(1); // paused at creation, and again when the 4 buffers ran out
    expect(r.device.pendingFrames).toBe(6);
    for (let i = 0; i < 10 && r.received.length < 10; i++) r.driver.handleInterrupt();
    expect(r.received.map((x) => x.frame)).toEqual(Array.from({ length: 10 }, (_, i) => ethFrame(100, i)));
  });
});

describe('bursts', () => {
  it('notifies the driver when the buffers run out in the middle of a burst', () => {
    let receiver: NetReceiver | undefined;
    const burst: NetBackend = {
      vnetHeader: false,
      send: () => {},
      start: (r) => (receiver = r),
      pause: () => {},
      resume: () => {},
      close: () => {},
    };
    const r = rig({ queueSize: 4, backend: burst });
    // The backend announces more frames each time; the device must not sit on its pushes.
    for (let i = 0; i < 10; i++) receiver!(ethFrame(100, i), null, i < 9);
    expect(r.received).toHaveLength(10);
  });
});
