/**
 * The spec's structures and constants for the network device (spec 5.1), under the spec's
 * names. Feature bits are bit numbers (use featureMask from @virtio/core for a mask).
 */

// ---- Feature bits (spec 5.1.3). ----
/** Device handles packets with partial checksum (driver may send NEEDS_CSUM). */
export const VIRTIO_NET_F_CSUM = 0;
/** Driver handles packets with partial checksum (device may send NEEDS_CSUM). */
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
/** The device reports its maximum MTU in the configuration space. */
export const VIRTIO_NET_F_MTU = 3;
/** The device has a MAC address in the configuration space. */
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_GUEST_TSO6 = 8;
export const VIRTIO_NET_F_GUEST_ECN = 9;
export const VIRTIO_NET_F_GUEST_UFO = 10;
export const VIRTIO_NET_F_HOST_TSO4 = 11;
export const VIRTIO_NET_F_HOST_TSO6 = 12;
export const VIRTIO_NET_F_HOST_ECN = 13;
export const VIRTIO_NET_F_HOST_UFO = 14;
/** The driver can merge receive buffers (one packet over several chains). */
export const VIRTIO_NET_F_MRG_RXBUF = 15;
/** The configuration status field is available. */
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_CTRL_RX = 18;
export const VIRTIO_NET_F_CTRL_VLAN = 19;
export const VIRTIO_NET_F_CTRL_RX_EXTRA = 20;
export const VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
export const VIRTIO_NET_F_MQ = 22;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
export const VIRTIO_NET_F_HASH_REPORT = 57;
export const VIRTIO_NET_F_RSS = 60;
export const VIRTIO_NET_F_SPEED_DUPLEX = 63;

// ---- Configuration status bits (spec 5.1.4). ----
export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_S_ANNOUNCE = 2;

// ---- struct virtio_net_hdr (spec 5.1.6). ----
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_F_RSC_INFO = 4;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** Byte offsets of the fields of struct virtio_net_hdr (all little-endian). */
export const NetHdrOffset = {
  flags: 0,
  gso_type: 1,
  hdr_len: 2,
  gso_size: 4,
  csum_start: 6,
  csum_offset: 8,
  num_buffers: 10,
} as const;

/** Size of struct virtio_net_hdr with num_buffers (VIRTIO_F_VERSION_1 or MRG_RXBUF), in bytes. */
export const VIRTIO_NET_HDR_SIZE = 12;
/** Size of the legacy header without num_buffers (neither VERSION_1 nor MRG_RXBUF), in bytes. */
export const VIRTIO_NET_HDR_LEGACY_SIZE = 10;

// ---- Control virtqueue (spec 5.1.6.5). ----
export const VIRTIO_NET_OK = 0;
export const VIRTIO_NET_ERR = 1;

export const VIRTIO_NET_CTRL_RX = 0;
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
export const VIRTIO_NET_CTRL_RX_ALLUNI = 2;
export const VIRTIO_NET_CTRL_RX_NOMULTI = 3;
export const VIRTIO_NET_CTRL_RX_NOUNI = 4;
export const VIRTIO_NET_CTRL_RX_NOBCAST = 5;

export const VIRTIO_NET_CTRL_MAC = 1;
export const VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
export const VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;

export const VIRTIO_NET_CTRL_VLAN = 2;
export const VIRTIO_NET_CTRL_VLAN_ADD = 0;
export const VIRTIO_NET_CTRL_VLAN_DEL = 1;

export const VIRTIO_NET_CTRL_ANNOUNCE = 3;
export const VIRTIO_NET_CTRL_ANNOUNCE_ACK = 0;

export const VIRTIO_NET_CTRL_MQ = 4;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;

export const VIRTIO_NET_CTRL_GUEST_OFFLOADS = 5;
export const VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET = 0;

/** Ethernet MAC address length in bytes. */
export const ETH_ALEN = 6;
/** Ethernet header length (destination, source, EtherType) in bytes: the "low level ethernet header length" the MTU excludes. */
export const ETH_HLEN = 14;
/** A VLAN tag adds this many bytes to the Ethernet header. */
export const VLAN_HLEN = 4;
/** Largest VLAN id (12 bits). */
export const VLAN_N_VID = 4096;

/** Queue index of receiveqN (N counted from 1): 2(N-1). */
export const receiveQueueIndex = (pair: number): number => 2 * pair;
/** Queue index of transmitqN (N counted from 1): 2(N-1)+1. */
export const transmitQueueIndex = (pair: number): number => 2 * pair + 1;

/**
 * Size of struct virtio_net_hdr for the negotiated features, in bytes: 12 with
 * VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF, else 10 (legacy). Hash fields
 * (VIRTIO_NET_F_HASH_REPORT) are never offered, so never counted.
 */
export function netHdrSize(version1: boolean, mrgRxbuf: boolean): number {
  return version1 || mrgRxbuf ? VIRTIO_NET_HDR_SIZE : VIRTIO_NET_HDR_LEGACY_SIZE;
}
