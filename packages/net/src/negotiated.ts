/** The negotiated feature bits of one activation, resolved once into booleans for the data paths. */
import { hasFeature, VIRTIO_F_VERSION_1 } from '@virtio/core';
import type { NetOffloads } from './backend.js';
import { GUEST_OFFLOAD_BITS, offloadsFromBits } from './offloads/guest.js';
import {
  netHdrSize,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_DEVICE_STATS,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_HASH_TUNNEL,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_NOTF_COAL,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F_VQ_NOTF_COAL,
} from './protocol.js';

export interface Negotiated {
  /** Size of struct virtio_net_hdr in bytes (10, 12, or 20 with HASH_REPORT). */
  readonly hdrSize: number;
  readonly mrgRxbuf: boolean;
  readonly mtu: boolean;
  readonly status: boolean;
  /** Offloads of frames passed to the driver (GUEST_*), as negotiated. */
  readonly guest: NetOffloads;
  /** The GUEST_* offload feature bits negotiated (what VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET may enable). */
  readonly guestBits: bigint;
  readonly ctrlGuestOffloads: boolean;
  /** Offloads of frames the driver sends (CSUM, HOST_*; uso4 and uso6 both mean HOST_USO). */
  readonly host: NetOffloads;
  readonly ctrlVq: boolean;
  readonly ctrlRx: boolean;
  readonly ctrlVlan: boolean;
  readonly ctrlMacAddr: boolean;
  readonly guestAnnounce: boolean;
  readonly mq: boolean;
  readonly ctrlRxExtra: boolean;
  readonly rss: boolean;
  readonly hashReport: boolean;
  readonly notfCoal: boolean;
  readonly vqNotfCoal: boolean;
  readonly deviceStats: boolean;
  readonly hashTunnel: boolean;
}

export function negotiated(f: bigint): Negotiated {
  const has = (bit: number): boolean => hasFeature(f, bit);
  return {
    hdrSize: netHdrSize(has(VIRTIO_F_VERSION_1), has(VIRTIO_NET_F_MRG_RXBUF), has(VIRTIO_NET_F_HASH_REPORT)),
    mrgRxbuf: has(VIRTIO_NET_F_MRG_RXBUF),
    mtu: has(VIRTIO_NET_F_MTU),
    status: has(VIRTIO_NET_F_STATUS),
    guest: offloadsFromBits(f & GUEST_OFFLOAD_BITS),
    guestBits: f & GUEST_OFFLOAD_BITS,
    ctrlGuestOffloads: has(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
    host: {
      csum: has(VIRTIO_NET_F_CSUM),
      tso4: has(VIRTIO_NET_F_HOST_TSO4),
      tso6: has(VIRTIO_NET_F_HOST_TSO6),
      ecn: has(VIRTIO_NET_F_HOST_ECN),
      ufo: has(VIRTIO_NET_F_HOST_UFO),
      uso4: has(VIRTIO_NET_F_HOST_USO),
      uso6: has(VIRTIO_NET_F_HOST_USO),
    },
    ctrlVq: has(VIRTIO_NET_F_CTRL_VQ),
    ctrlRx: has(VIRTIO_NET_F_CTRL_RX),
    ctrlVlan: has(VIRTIO_NET_F_CTRL_VLAN),
    ctrlMacAddr: has(VIRTIO_NET_F_CTRL_MAC_ADDR),
    guestAnnounce: has(VIRTIO_NET_F_GUEST_ANNOUNCE),
    mq: has(VIRTIO_NET_F_MQ),
    ctrlRxExtra: has(VIRTIO_NET_F_CTRL_RX_EXTRA),
    rss: has(VIRTIO_NET_F_RSS),
    hashReport: has(VIRTIO_NET_F_HASH_REPORT),
    notfCoal: has(VIRTIO_NET_F_NOTF_COAL),
    vqNotfCoal: has(VIRTIO_NET_F_VQ_NOTF_COAL),
    deviceStats: has(VIRTIO_NET_F_DEVICE_STATS),
    hashTunnel: has(VIRTIO_NET_F_HASH_TUNNEL),
  };
}
