// VIRTIO_NET_HDR_F_DATA_VALID reaches the driver only for a validated checksum: vouched for by
// the backend (TAP: the kernel), or verified by the device.
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import { NET_DRIVER_FEATURES, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_HDR_F_DATA_VALID } from '../src/index.js';
import { ethFrame, hdrBytes, rig } from './harness.js';
import { ipv4Frame, ipv6Frame, TCP, UDP } from './packets.js';

/** Fills in the TCP / UDP checksum of an IPv4 or IPv6 frame built by packets.ts (RFC 793 / 768 / 8200). */
function withChecksum(frame: Uint8Array): Uint8Array {
  const f = frame.slice();
  const v6 = f[12] === 0x86;
  const l4 = v6 ? 54 : 34;
  const proto = f[v6 ? 20 : 23];
  const len = f.length - l4;
  const words: number[] = [];
  const add = (from: number, to: number) => {
    for (let i = from; i < to; i += 2) words.push((f[i] << 8) | (i + 1 < to ? f[i + 1] : 0));
  };
  add(v6 ? 22 : 26, l4); // addresses
  words.push(proto, len);
  const at = l4 + (proto === TCP ? 16 : 6);
  f[at] = f[at + 1] = 0;
  add(l4, f.length);
  let sum = words.reduce((a, b) => a + b, 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff || 0xffff;
  f[at] = c >>> 8;
  f[at + 1] = c & 0xff;
  return f;
}

describe('DATA_VALID', () => {
  const features = NET_DRIVER_FEATURES | featureMask(VIRTIO_NET_F_GUEST_CSUM);
  const valid = hdrBytes(VIRTIO_NET_HDR_F_DATA_VALID, 0);

  it('[net.dev.47] from a backend that does not validate, the device verifies the checksum and clears the bit unless it is right', () => {
    const r = rig({ vnetHeader: true, driverFeatures: features });
    const good4 = withChecksum(ipv4Frame('10.0.0.1', '10.0.0.2', TCP, 80, 9000, 101));
    const good6 = withChecksum(ipv6Frame('2001:db8::1', '2001:db8::2', UDP, 53, 9000, [], 33));
    const bad = good4.slice();
    bad[bad.length - 1] ^= 1;
    const noUdpSum = ipv4Frame('10.0.0.1', '10.0.0.2', UDP, 53, 9000, 10); // checksum 0: none
    for (const f of [good4, good6, bad, noUdpSum, ethFrame(80, 1)]) r.callback.deliver(f, valid);
    expect(r.received.map((x) => x.header.flags)).toEqual([VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0]);
  });

  it('a backend that validates checksums (TAP) is believed', () => {
    const r = rig({ vnetHeader: true, checksumsValidated: true, driverFeatures: features });
    r.callback.deliver(ethFrame(80, 1), valid);
    expect(r.received[0].header.flags).toBe(VIRTIO_NET_HDR_F_DATA_VALID);
  });
});
