// UDP segmentation offload (HOST_USO, GUEST_USO4 / USO6: gso_type VIRTIO_NET_HDR_GSO_UDP_L4)
// and hdr_len (GUEST_HDRLEN exact on transmit, at least the headers otherwise and on receive).
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import {
  NET_DRIVER_FEATURES,
  NET_OFFLOAD_FEATURES,
  NetHdrOffset,
  PLAIN_HEADER,
  VIRTIO_NET_F_GUEST_HDRLEN,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  type NetHeader,
} from '../src/index.js';
import { hdrBytes, rig } from './harness.js';
import { ipv4Frame, ipv6Frame, TCP, UDP } from './packets.js';

const ALL = NET_DRIVER_FEATURES | NET_OFFLOAD_FEATURES;
const NO_HDRLEN = ALL & ~featureMask(VIRTIO_NET_F_GUEST_HDRLEN);
const hdrLenOf = (h: Uint8Array | null): number => (h![NetHdrOffset.hdr_len] | (h![NetHdrOffset.hdr_len + 1] << 8));
const usoHeader = (hdrLen = 0): NetHeader => ({
  ...PLAIN_HEADER,
  flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
  gsoType: VIRTIO_NET_HDR_GSO_UDP_L4,
  gsoSize: 1400,
  csumStart: 34,
  csumOffset: 6,
  hdrLen,
});

describe('UDP segmentation offload', () => {
  it('[net.drv.19] [net.drv.38] with HOST_USO the driver may send GSO_UDP_L4; GUEST_HDRLEN is accepted when offered', () => {
    const r = rig({ vnetHeader: true, driverFeatures: ALL });
    expect(r.driver.features & featureMask(VIRTIO_NET_F_HOST_USO, VIRTIO_NET_F_GUEST_HDRLEN)).toBe(featureMask(VIRTIO_NET_F_HOST_USO, VIRTIO_NET_F_GUEST_HDRLEN));
    expect(r.driver.send(ipv4Frame('10.0.0.1', '10.0.0.2', UDP, 1, 2, 4000), usoHeader())).toBe(true);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0].header![NetHdrOffset.gso_type]).toBe(VIRTIO_NET_HDR_GSO_UDP_L4);
    const none = rig({ vnetHeader: true, driverFeatures: ALL & ~featureMask(VIRTIO_NET_F_HOST_USO) });
    expect(() => none.driver.send(ipv4Frame('10.0.0.1', '10.0.0.2', UDP, 1, 2, 4000), usoHeader())).toThrow(/net\.drv\.19/);
  });

  it('[net.dev.35] the device passes GSO_UDP_L4 to a driver with GUEST_USO4 / USO6 only, and tells the backend', () => {
    const frame = ipv4Frame('10.0.0.1', '10.0.0.2', UDP, 1, 2, 3000);
    const r = rig({ vnetHeader: true, driverFeatures: ALL });
    expect(r.callback.offloads).toMatchObject({ uso4: true, uso6: true });
    r.callback.deliver(frame, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, 1400, 34, 6, 42));
    expect(r.received.map((x) => x.header.gsoType)).toEqual([VIRTIO_NET_HDR_GSO_UDP_L4]);
    const without = rig({ vnetHeader: true, driverFeatures: ALL & ~featureMask(VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_USO6) });
    expect(without.callback.offloads).toMatchObject({ uso4: false, uso6: false });
    without.callback.deliver(frame, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, 1400, 34, 6, 42));
    expect(without.received).toHaveLength(0);
    expect(without.device.stats.rxErrors).toBe(1);
  });
});

describe('hdr_len', () => {
  it('[net.drv.31] with GUEST_HDRLEN the driver sends exactly the header length, and refuses another', () => {
    const r = rig({ vnetHeader: true, driverFeatures: ALL });
    const tcp = ipv4Frame('10.0.0.1', '10.0.0.2', TCP, 1, 2, 3000);
    tcp[14 + 20 + 12] = 8 << 4; // TCP data offset: 32 bytes (options)
    const tso = { ...usoHeader(), gsoType: VIRTIO_NET_HDR_GSO_TCPV4, csumOffset: 16 };
    r.driver.send(tcp, tso);
    r.driver.send(ipv6Frame('2001:db8::1', '2001:db8::2', UDP, 1, 2, [], 3000), { ...usoHeader(), csumStart: 54 });
    expect(r.sent.map((s) => hdrLenOf(s.header))).toEqual([14 + 20 + 32, 14 + 40 + 8]);
    expect(() => r.driver.send(tcp, { ...tso, hdrLen: 54 })).toThrow(/net\.drv\.31/);
    expect(r.driver.send(tcp, { ...tso, hdrLen: 66 })).toBe(true);
  });

  it('[net.drv.32] without GUEST_HDRLEN hdr_len is at least the header length', () => {
    const r = rig({ vnetHeader: true, driverFeatures: NO_HDRLEN });
    const frame = ipv4Frame('10.0.0.1', '10.0.0.2', UDP, 1, 2, 3000);
    r.driver.send(frame, usoHeader(10));
    r.driver.send(frame, usoHeader(100));
    expect(r.sent.map((s) => hdrLenOf(s.header))).toEqual([42, 100]);
  });

  it('[net.dev.46] the device gives the driver a hdr_len covering the headers of a GSO packet', () => {
    const r = rig({ vnetHeader: true, driverFeatures: ALL });
    const frame = ipv4Frame('10.0.0.1', '10.0.0.2', TCP, 1, 2, 3000);
    r.callback.deliver(frame, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 0));
    r.callback.deliver(frame, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 128));
    expect(r.received.map((x) => x.header.hdrLen)).toEqual([54, 128]);
  });
});
