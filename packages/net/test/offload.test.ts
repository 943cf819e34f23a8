// struct virtio_net_hdr both ways with a backend that carries headers: what the device passes
// to the driver matches what the driver negotiated, and what the driver sends is made safe.
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import {
  NET_DRIVER_FEATURES,
  NetDriverError,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_F_RSC_INFO,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP,
  PLAIN_HEADER,
} from '../src/index.js';
import { ethFrame, hdrBytes, rawTransmit, rig } from './harness.js';

const GUEST = featureMask(VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_UFO);
const HOST = featureMask(VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4);

/** Ones'-complement sum of frame[start..] folded to 16 bits (0xffff when the checksum is right). */
function sum16(frame: Uint8Array, start: number): number {
  let s = 0;
  let i = start;
  for (; i + 1 < frame.length; i += 2) s += (frame[i] << 8) | frame[i + 1];
  if (i < frame.length) s += frame[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

describe('receive headers', () => {
  it('[net.dev.31] without GUEST_CSUM, flags are 0 and a partial checksum is completed by the device', () => {
    const r = rig({ vnetHeader: true });
    const frame = ethFrame(101, 4);
    frame[40] = 0x12; // pseudo-header sum in the checksum field
    frame[41] = 0x34;
    r.callback.deliver(frame, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 34, 6));
    expect(r.received).toHaveLength(1);
    const got = r.received[0];
    expect(got.header.flags).toBe(0);
    expect(got.header.csumStart).toBe(0);
    // Checksummed over the data and the pseudo-header sum the field held.
    let total = sum16(got.frame, 34) + 0x1234;
    total = (total & 0xffff) + (total >>> 16);
    expect(total).toBe(0xffff);
    expect(got.frame.subarray(0, 40)).toEqual(frame.subarray(0, 40));
  });

  it('[net.dev.40] with GUEST_CSUM, NEEDS_CSUM and its offsets reach the driver unchanged', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | GUEST });
    const frame = ethFrame(101, 4);
    r.callback.deliver(frame, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 6));
    expect(r.received[0].header).toMatchObject({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 });
    expect(r.received[0].frame).toEqual(frame);
  });

  it('[net.dev.32] [net.dev.33] [net.dev.34] [net.dev.35] [net.dev.43] no gso_type the driver did not negotiate', () => {
    const r = rig({ vnetHeader: true });
    for (const gso of [VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP, 5]) {
      r.callback.deliver(ethFrame(3000, gso), hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, gso, 1448, 34, 16));
    }
    expect(r.received).toHaveLength(0);
    expect(r.device.stats.rxErrors).toBe(4);
    r.callback.deliver(ethFrame(100, 9), hdrBytes(0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 54));
    expect(r.received[0].header).toMatchObject({ gsoType: VIRTIO_NET_HDR_GSO_NONE, hdrLen: 0 });
  });

  it('[net.dev.44] passes GSO packets the driver negotiated, always with NEEDS_CSUM and gso_size', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | GUEST });
    r.callback.deliver(ethFrame(3000, 1), hdrBytes(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448)); // no NEEDS_CSUM: refused
    r.callback.deliver(ethFrame(3000, 2), hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 66));
    expect(r.received).toHaveLength(1);
    expect(r.received[0].header).toMatchObject({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448, hdrLen: 66 });
    expect(r.received[0].frame).toEqual(ethFrame(3000, 2));
  });

  it('[net.dev.38] the ECN bit only with GUEST_ECN', () => {
    const noEcn = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | (GUEST & ~featureMask(VIRTIO_NET_F_GUEST_ECN)) });
    const ecn = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
    noEcn.callback.deliver(ethFrame(3000, 1), hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, ecn, 1448, 34, 16));
    expect(noEcn.received).toHaveLength(0);
    const withEcn = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | GUEST });
    withEcn.callback.deliver(ethFrame(3000, 1), hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, ecn, 1448, 34, 16));
    expect(withEcn.received[0].header.gsoType).toBe(ecn);
  });

  it('[net.dev.45] never sets RSC_INFO', () => {
    const r = rig({ vnetHeader: true, checksumsValidated: true, driverFeatures: NET_DRIVER_FEATURES | GUEST });
    r.callback.deliver(ethFrame(100), hdrBytes(VIRTIO_NET_HDR_F_RSC_INFO | VIRTIO_NET_HDR_F_DATA_VALID, 0));
    expect(r.received[0].header.flags).toBe(VIRTIO_NET_HDR_F_DATA_VALID);
  });

  it('[net.dev.5] drops unsegmented frames above the MTU plus the Ethernet header', () => {
    const r = rig({ mtu: 1000 });
    r.callback.deliver(ethFrame(1015, 1));
    r.callback.deliver(ethFrame(1014, 2));
    expect(r.received.map((x) => x.frame)).toEqual([ethFrame(1014, 2)]);
  });

  it('[net.drv.5] posts receive buffers that hold an MTU-sized packet', () => {
    const r = rig({ mtu: 9000, driverFeatures: NET_DRIVER_FEATURES & ~featureMask(15) });
    expect(r.driver.rxBufferSize).toBeGreaterThanOrEqual(12 + 9000 + 14);
    r.callback.deliver(ethFrame(9014, 3));
    expect(r.received[0].frame).toEqual(ethFrame(9014, 3));
  });

  it('[net.drv.42] without MRG_RXBUF and with guest GSO, receive buffers of at least 65601 bytes', () => {
    const r = rig({ vnetHeader: true, driverFeatures: (NET_DRIVER_FEATURES & ~featureMask(15)) | GUEST, queueSize: 4 });
    expect(r.driver.rxBufferSize).toBeGreaterThanOrEqual(65601);
  });
});

describe('transmit headers', () => {
  it('[net.dev.6] forwards an MTU-sized frame whole', () => {
    const r = rig({ mtu: 1280 });
    r.driver.send(ethFrame(1294, 5));
    expect(r.sent[0].frame).toEqual(ethFrame(1294, 5));
  });

  it('[net.dev.15] [net.dev.16] [net.dev.19] ignores unknown flag bits; never passes csum offsets without NEEDS_CSUM, nor hdr_len without GSO', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    rawTransmit(r, hdrBytes(0x80 | VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 34, 6, 54), ethFrame(100, 1));
    expect(r.sent).toHaveLength(1);
    expect(Array.from(r.sent[0].header!)).toEqual(Array.from(hdrBytes(0, 0)));
    expect(r.sent[0].frame).toEqual(ethFrame(100, 1));
    rawTransmit(r, hdrBytes(0x80 | VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 6), ethFrame(100, 2));
    expect(Array.from(r.sent[1].header!)).toEqual(Array.from(hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 6)));
  });

  it('passes TSO requests through to a header-carrying backend and refuses ones not negotiated', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    const big = ethFrame(5000, 3);
    r.driver.send(big, { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448, csumStart: 34, csumOffset: 16, hdrLen: 66 });
    expect(r.sent[0].frame).toEqual(big);
    expect(r.sent[0].header![1]).toBe(VIRTIO_NET_HDR_GSO_TCPV4);
    rawTransmit(r, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 54, 16), ethFrame(3000, 4));
    expect(r.sent).toHaveLength(1);
    expect(r.device.stats.txErrors).toBe(1);
  });

  it('[net.drv.12] [net.drv.13] the transmit header has the receive header size and num_buffers 0', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    r.driver.send(ethFrame(60), { ...PLAIN_HEADER, numBuffers: 7 });
    expect(r.sent[0].header).toHaveLength(r.driver.hdrSize);
    expect(r.sent[0].header![10] | r.sent[0].header![11]).toBe(0);
  });

  it('[net.drv.14] [net.drv.39] no flags without CSUM; never DATA_VALID or RSC_INFO', () => {
    const r = rig();
    expect(() => r.driver.send(ethFrame(60), { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM })).toThrow(/net.drv.14/);
    const c = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    expect(() => c.driver.send(ethFrame(60), { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_DATA_VALID })).toThrow(/net.drv.39/);
    expect(r.sent).toHaveLength(0);
  });

  it('[net.drv.16] [net.drv.17] [net.drv.18] [net.drv.19] [net.drv.20] [net.drv.29] [net.drv.30] gso_type only as negotiated, with NEEDS_CSUM and gso_size', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | featureMask(VIRTIO_NET_F_CSUM) });
    const gso = (gsoType: number) => ({ ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType, gsoSize: 1448 });
    expect(() => r.driver.send(ethFrame(60), gso(VIRTIO_NET_HDR_GSO_TCPV4))).toThrow(/net.drv.16/);
    expect(() => r.driver.send(ethFrame(60), gso(VIRTIO_NET_HDR_GSO_TCPV6))).toThrow(/net.drv.17/);
    expect(() => r.driver.send(ethFrame(60), gso(VIRTIO_NET_HDR_GSO_UDP))).toThrow(/net.drv.18/);
    expect(() => r.driver.send(ethFrame(60), gso(5))).toThrow(/net.drv.19/);
    expect(() => r.driver.send(ethFrame(60), gso(2))).toThrow(/net.drv.29/);
    const t = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    expect(() => t.driver.send(ethFrame(60), { ...gso(VIRTIO_NET_HDR_GSO_TCPV4), flags: 0 })).toThrow(/net.drv.30/);
    expect(() => t.driver.send(ethFrame(60), { ...gso(VIRTIO_NET_HDR_GSO_TCPV4), gsoSize: 0 })).toThrow(/net.drv.30/);
    expect(() => t.driver.send(ethFrame(60), gso(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN))).toThrow(/net.drv.20/);
    expect(r.sent.length + t.sent.length).toBe(0);
  });

  it('[net.drv.6] refuses an unsegmented frame above the MTU', () => {
    const r = rig({ mtu: 1000 });
    expect(() => r.driver.send(ethFrame(1015))).toThrow(NetDriverError);
    expect(() => r.driver.send(ethFrame(1015))).toThrow(/net.drv.6/);
  });
});

describe('checksums and tunnels', () => {
  it('[net.dev.23] forwards a frame with a wrong checksum unchanged when NEEDS_CSUM is not set', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    const f = ethFrame(100, 8);
    f[40] ^= 0xff; // whatever the checksum was, it is wrong now
    rawTransmit(r, hdrBytes(0, 0), f);
    expect(r.sent[0].frame).toEqual(f);
  });

  it('[net.dev.36] [net.dev.37] [net.dev.41] [net.dev.42] never passes UDP tunnel GSO or UDP_TUNNEL_CSUM to the driver', () => {
    const r = rig({ vnetHeader: true, checksumsValidated: true, driverFeatures: NET_DRIVER_FEATURES | GUEST });
    for (const tunnel of [0x20, 0x40]) {
      r.callback.deliver(ethFrame(3000, tunnel), hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | tunnel, 1400, 34, 16));
    }
    expect(r.received).toHaveLength(0);
    r.callback.deliver(ethFrame(100, 1), hdrBytes(VIRTIO_NET_HDR_F_DATA_VALID | 0x08, 0)); // UDP_TUNNEL_CSUM
    expect(r.received[0].header.flags).toBe(VIRTIO_NET_HDR_F_DATA_VALID);
  });

  it('[net.dev.20] [net.dev.22] does not accept transmitted UDP tunnel GSO packets (the feature is not offered)', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    for (const tunnel of [0x20, 0x40, 0x60]) {
      rawTransmit(r, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | tunnel, 1400, 34, 16), ethFrame(3000, tunnel));
    }
    expect(r.sent).toHaveLength(0);
    expect(r.device.stats.txErrors).toBe(3);
  });

  it('[net.drv.28] the checksum field of NEEDS_CSUM must lie inside the frame', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | HOST });
    expect(() => r.driver.send(ethFrame(60), { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 50, csumOffset: 16 })).toThrow(/net.drv.28/);
    expect(r.driver.send(ethFrame(60), { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 16 })).toBe(true);
  });
});

describe('backend offloads', () => {
  it('tells the backend which offloads the driver negotiated', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NET_DRIVER_FEATURES | featureMask(VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_HOST_TSO4) });
    expect(r.callback.offloads).toEqual({ csum: true, tso4: true, tso6: false, ecn: false, ufo: false, uso4: false, uso6: false });
  });
});
