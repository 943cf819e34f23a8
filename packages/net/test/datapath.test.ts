// Frames both ways between our driver and our device, over every ring layout, with and without
// VIRTIO_NET_F_MRG_RXBUF, and over the MMIO transport.
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import { NET_DRIVER_FEATURES, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_HDR_SIZE } from '../src/index.js';
import { ethFrame, rig, RING_MODES } from './harness.js';

const NO_MRG = NET_DRIVER_FEATURES & ~featureMask(VIRTIO_NET_F_MRG_RXBUF);

describe.each(RING_MODES)('datapath over $name', ({ ring }) => {
  for (const mrg of [true, false]) {
    describe(mrg ? 'with MRG_RXBUF' : 'without MRG_RXBUF', () => {
      it('transmits frames of every size intact, header stripped for a plain backend', () => {
        const r = rig({ ring, driverFeatures: mrg ? NET_DRIVER_FEATURES : NO_MRG });
        const frames = [14, 60, 61, 1000, 1514].map((n, i) => ethFrame(n, i + 1));
        for (const f of frames) expect(r.driver.send(f)).toBe(true);
        expect(r.sent.map((s) => s.frame)).toEqual(frames);
        expect(r.sent.every((s) => s.header === null)).toBe(true);
        expect(r.device.stats.txFrames).toBe(frames.length);
      });

      it('transmits more frames than the queue holds, reusing completed buffers', () => {
        const r = rig({ ring, driverFeatures: mrg ? NET_DRIVER_FEATURES : NO_MRG, queueSize: 8 });
        for (let i = 0; i < 100; i++) expect(r.driver.send(ethFrame(100, i))).toBe(true);
        expect(r.sent).toHaveLength(100);
        expect(r.sent[99].frame).toEqual(ethFrame(100, 99));
      });

      it('[net.dev.25] [net.dev.27] receives frames intact with num_buffers matching the buffers used', () => {
        const r = rig({ ring, driverFeatures: mrg ? NET_DRIVER_FEATURES : NO_MRG });
        const frames = [14, 60, 1514].map((n, i) => ethFrame(n, i + 7));
        for (const f of frames) r.callback.deliver(f);
        expect(r.received.map((x) => x.frame)).toEqual(frames);
        expect(r.received.every((x) => x.header.numBuffers === 1 && x.header.flags === 0)).toBe(true);
        expect(r.driver.hdrSize).toBe(VIRTIO_NET_HDR_SIZE);
      });
    });
  }

  it('[net.dev.28] [net.dev.29] [net.dev.30] spreads a frame over several merged buffers, all but the last full', () => {
    const r = rig({ ring, rxBufferSize: 256 });
    const used: number[] = [];
    const frame = ethFrame(1000, 3);
    // Watch the used lengths the driver reaps.
    const q = r.driver.device.queues[0]!;
    const reap = q.reap.bind(q);
    q.reap = () => {
      const u = reap();
      if (u) used.push(u.len);
      return u;
    };
    r.callback.deliver(frame);
    expect(r.received).toHaveLength(1);
    expect(r.received[0].frame).toEqual(frame);
    const n = Math.ceil((1000 + VIRTIO_NET_HDR_SIZE) / 256);
    expect(r.received[0].header.numBuffers).toBe(n);
    expect(used).toEqual([...Array(n - 1).fill(256), 1000 + VIRTIO_NET_HDR_SIZE - 256 * (n - 1)]);
  });
});

describe('datapath over MMIO', () => {
  it('passes frames both ways through the register interface', () => {
    const r = rig({ transport: 'mmio' });
    r.driver.send(ethFrame(300, 1));
    r.callback.deliver(ethFrame(400, 2));
    expect(r.sent[0].frame).toEqual(ethFrame(300, 1));
    expect(r.received[0].frame).toEqual(ethFrame(400, 2));
  });
});

describe('receive with MRG_RXBUF', () => {
  it('drops a frame larger than all the buffers of the queue together, then goes on', () => {
    const r = rig({ queueSize: 4, rxBufferSize: 100, manualInterrupts: true });
    r.callback.deliver(ethFrame(500, 1));
    expect(r.device.stats.rxErrors).toBe(1);
    r.callback.deliver(ethFrame(150, 2)); // fits in the two buffers of the four already taken
    r.driver.handleInterrupt();
    expect(r.received.map((x) => x.frame)).toEqual([ethFrame(150, 2)]);
    expect(r.callback.paused).toBe(false);
  });
});

describe('receive without MRG_RXBUF', () => {
  it('[net.dev.26] uses exactly one buffer per packet and drops a frame larger than the buffer, keeping the buffer', () => {
    const r = rig({ driverFeatures: NO_MRG, rxBufferSize: 200 });
    r.callback.deliver(ethFrame(500, 1));
    expect(r.received).toHaveLength(0);
    expect(r.device.stats.rxErrors).toBe(1);
    r.callback.deliver(ethFrame(188, 2));
    expect(r.received).toHaveLength(1);
    expect(r.received[0].header.numBuffers).toBe(1);
    expect(r.received[0].frame).toEqual(ethFrame(188, 2));
  });
});
