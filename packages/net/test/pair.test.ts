// Two devices joined by the pair backend, each driven by our driver: frames cross both ways,
// and back-pressure crosses the cable.
import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import {
  createPair,
  NET_DRIVER_FEATURES,
  NET_OFFLOAD_FEATURES,
  NetDevice,
  NetDriver,
  PLAIN_HEADER,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  type NetBackend,
} from '../src/index.js';
import { ethFrame } from './harness.js';

function machine(backend: NetBackend, mac: number, opts: { features?: bigint; queueSize?: number; manual?: boolean } = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(8 << 20));
  const device = new NetDevice({ backend, mac: Uint8Array.of(2, 0, 0, 0, 0, mac), queueSize: opts.queueSize });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const got: Uint8Array[] = [];
  const driver = new NetDriver(transport, {
    memory,
    allocator: new BumpAllocator(0x1000, (8 << 20) - 0x1000),
    wantedFeatures: opts.features ?? NET_DRIVER_FEATURES,
    onFrame: (f) => got.push(f),
  });
  if (!opts.manual) transport.onInterrupt = () => driver.handleInterrupt();
  return { device, driver, got };
}

describe('pair backend', () => {
  it('connects two devices both ways (split on one side, packed on the other)', () => {
    const [a, b] = createPair();
    const m1 = machine(a, 1);
    const m2 = machine(b, 2, { features: NET_DRIVER_FEATURES | featureMask(VIRTIO_F_RING_PACKED) });
    const to2 = ethFrame(500, 1, [2, 0, 0, 0, 0, 2]);
    const to1 = ethFrame(700, 2, [2, 0, 0, 0, 0, 1]);
    m1.driver.send(to2);
    m2.driver.send(to1);
    expect(m2.got).toEqual([to2]);
    expect(m1.got).toEqual([to1]);
  });

  it('back-pressure crosses the cable: a receiver without buffers loses nothing', () => {
    const [a, b] = createPair();
    const tx = machine(a, 1);
    const rx = machine(b, 2, { queueSize: 4, manual: true });
    const frames = Array.from({ length: 40 }, (_, i) => ethFrame(64 + i, i, [2, 0, 0, 0, 0, 2]));
    for (const f of frames) expect(tx.driver.send(f)).toBe(true);
    expect(b.queued + rx.device.pendingFrames).toBe(36);
    for (let i = 0; i < 40 && rx.got.length < 40; i++) rx.driver.handleInterrupt();
    expect(rx.got).toEqual(frames);
    expect(b.dropped).toBe(0);
  });

  it('carries offload headers when both ends negotiate them', () => {
    const [a, b] = createPair({ vnetHeader: true });
    const features = NET_DRIVER_FEATURES | NET_OFFLOAD_FEATURES;
    const m1 = machine(a, 1, { features });
    const headers: number[] = [];
    const memory = new FlatGuestMemory(new Uint8Array(8 << 20));
    const device = new NetDevice({ backend: b, mac: Uint8Array.of(2, 0, 0, 0, 0, 2) });
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    const driver = new NetDriver(transport, {
      memory,
      allocator: new BumpAllocator(0x1000, (8 << 20) - 0x1000),
      wantedFeatures: features,
      onFrame: (_f, h) => headers.push(h.gsoType, h.gsoSize),
    });
    transport.onInterrupt = () => driver.handleInterrupt();
    const big = ethFrame(4000, 1, [2, 0, 0, 0, 0, 2]);
    m1.driver.send(big, { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448, csumStart: 34, csumOffset: 16, hdrLen: 54 });
    expect(headers).toEqual([VIRTIO_NET_HDR_GSO_TCPV4, 1448]);
  });
});

describe('bulk transfer', () => {
  it('moves 8 MiB between two devices, with a receiver that takes its interrupts late, intact and in order', () => {
    const [a, b] = createPair();
    const packed = featureMask(VIRTIO_F_RING_PACKED);
    const tx = machine(a, 1, { features: NET_DRIVER_FEATURES | packed, queueSize: 64 });
    const rx = machine(b, 2, { queueSize: 32, manual: true });
    const total = 8 << 20;
    const chunk = 1500;
    let sentBytes = 0;
    let seq = 0;
    let expectSeq = 0;
    let gotBytes = 0;
    let bad = 0;
    rx.got.length = 0;
    for (let round = 0; sentBytes < total && round < 1_000_000; round++) {
      const f = ethFrame(14 + chunk, seq, [2, 0, 0, 0, 0, 2]);
      f[14] = seq & 0xff;
      f[15] = (seq >>> 8) & 0xff;
      f[16] = (seq >>> 16) & 0xff;
      if (tx.driver.send(f)) {
        seq++;
        sentBytes += chunk;
      } else {
        tx.driver.poll();
      }
      if (round % 7 === 0) rx.driver.handleInterrupt(); // late and irregular
      for (const g of rx.got.splice(0)) {
        if ((g[14] | (g[15] << 8) | (g[16] << 16)) !== (expectSeq & 0xffffff)) bad++;
        expectSeq++;
        gotBytes += g.length - 14;
      }
    }
    for (let i = 0; i < 10_000 && gotBytes < sentBytes; i++) {
      rx.driver.handleInterrupt();
      rx.driver.poll();
      for (const g of rx.got.splice(0)) {
        if ((g[14] | (g[15] << 8) | (g[16] << 16)) !== (expectSeq & 0xffffff)) bad++;
        expectSeq++;
        gotBytes += g.length - 14;
      }
    }
    expect(bad).toBe(0);
    expect(gotBytes).toBe(sentBytes);
    expect(b.dropped).toBe(0);
    expect(rx.device.stats.rxErrors).toBe(0);
  });
});
