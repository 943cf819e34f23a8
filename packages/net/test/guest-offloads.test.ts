// Offloads state configuration (VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET).
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import {
  NET_DRIVER_FEATURES,
  NET_OFFLOAD_FEATURES,
  VIRTIO_NET_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_OK,
} from '../src/index.js';
import { hdrBytes, rawCommand, rig } from './harness.js';
import { ipv4Frame, TCP } from './packets.js';

const ALL = NET_DRIVER_FEATURES | NET_OFFLOAD_FEATURES;

function offloadsCommand(bits: bigint): Uint8Array {
  const b = new Uint8Array(10);
  b[0] = VIRTIO_NET_CTRL_GUEST_OFFLOADS;
  b[1] = VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET;
  new DataView(b.buffer).setBigUint64(2, bits, true);
  return b;
}

describe('offloads state configuration', () => {
  it('offered with the control queue and a header-carrying backend only', () => {
    expect(rig({ vnetHeader: true }).device.deviceFeatures & featureMask(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)).not.toBe(0n);
    expect(rig().device.deviceFeatures & featureMask(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)).toBe(0n);
  });

  it('disabled offloads are not used: TSO frames dropped, partial checksums completed; the backend is told', async () => {
    const r = rig({ vnetHeader: true, driverFeatures: ALL });
    const tso = ipv4Frame('10.0.0.1', '10.0.0.2', TCP, 1, 2, 3000);
    const tsoHeader = hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 54);
    r.callback.deliver(tso, tsoHeader);
    expect(r.received).toHaveLength(1);
    expect(await r.driver.setGuestOffloads(0n)).toBe(true);
    expect(r.callback.offloads).toMatchObject({ csum: false, tso4: false, uso4: false });
    r.callback.deliver(tso, tsoHeader);
    expect(r.received).toHaveLength(1);
    const small = ipv4Frame('10.0.0.1', '10.0.0.2', TCP, 1, 2, 100);
    r.callback.deliver(small, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16));
    expect(r.received[1].header.flags).toBe(0);
    expect(await r.driver.setGuestOffloads(featureMask(VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4))).toBe(true);
    r.callback.deliver(tso, tsoHeader);
    expect(r.received[2].header.gsoType).toBe(VIRTIO_NET_HDR_GSO_TCPV4);
  });

  it('[net.drv.68] no offload that was not negotiated is enabled: the driver does not ask, the device refuses', async () => {
    const r = rig({ vnetHeader: true, driverFeatures: ALL & ~featureMask(VIRTIO_NET_F_GUEST_USO4) });
    expect(() => r.driver.setGuestOffloads(featureMask(VIRTIO_NET_F_GUEST_USO4))).toThrow(/net\.drv\.68/);
    expect(r.memory.readU8(rawCommand(r, 2, offloadsCommand(featureMask(VIRTIO_NET_F_GUEST_USO4))))).toBe(VIRTIO_NET_ERR);
    expect(r.memory.readU8(rawCommand(r, 2, offloadsCommand(1n << 40n)))).toBe(VIRTIO_NET_ERR);
    expect(r.memory.readU8(rawCommand(r, 2, offloadsCommand(featureMask(VIRTIO_NET_F_GUEST_CSUM))))).toBe(VIRTIO_NET_OK);
    expect(r.callback.offloads).toMatchObject({ csum: true, tso4: false });
  });
});
