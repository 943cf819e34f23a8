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
/** Device statistics through the control queue (VIRTIO_NET_CTRL_STATS). */
export const VIRTIO_NET_F_DEVICE_STATS = 50;
/** Inner header hash of encapsulated packets (VIRTIO_NET_CTRL_HASH_TUNNEL_SET). */
export const VIRTIO_NET_F_HASH_TUNNEL = 51;
/** Per-virtqueue notification coalescing (VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET / _GET). */
export const VIRTIO_NET_F_VQ_NOTF_COAL = 52;
/** Notification coalescing for all transmit / receive queues (VIRTIO_NET_CTRL_NOTF_COAL_TX_SET / _RX_SET). */
export const VIRTIO_NET_F_NOTF_COAL = 53;
export const VIRTIO_NET_F_GUEST_USO4 = 54;
export const VIRTIO_NET_F_GUEST_USO6 = 55;
export const VIRTIO_NET_F_HOST_USO = 56;
/** Per-packet hash value and type in struct virtio_net_hdr (hash_value, hash_report). */
export const VIRTIO_NET_F_HASH_REPORT = 57;
/** The driver provides the exact hdr_len on transmit. */
export const VIRTIO_NET_F_GUEST_HDRLEN = 59;
/** Receive-side scaling: Toeplitz hash, indirection table (VIRTIO_NET_CTRL_MQ_RSS_CONFIG). */
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
  /** With VIRTIO_NET_F_HASH_REPORT (struct virtio_net_hdr_v1_hash). */
  hash_value: 12,
  hash_report: 16,
  padding_reserved: 18,
} as const;

/** Size of struct virtio_net_hdr with num_buffers (VIRTIO_F_VERSION_1 or MRG_RXBUF), in bytes. */
export const VIRTIO_NET_HDR_SIZE = 12;
/** Size of the legacy header without num_buffers (neither VERSION_1 nor MRG_RXBUF), in bytes. */
export const VIRTIO_NET_HDR_LEGACY_SIZE = 10;
/** Size of struct virtio_net_hdr with the hash fields (VIRTIO_NET_F_HASH_REPORT), in bytes. */
export const VIRTIO_NET_HDR_HASH_SIZE = 20;

// ---- Hash types (spec 5.1.6.4.3.1) and hash reports (5.1.6.4.5). ----
export const VIRTIO_NET_HASH_TYPE_IPv4 = 1 << 0;
export const VIRTIO_NET_HASH_TYPE_TCPv4 = 1 << 1;
export const VIRTIO_NET_HASH_TYPE_UDPv4 = 1 << 2;
export const VIRTIO_NET_HASH_TYPE_IPv6 = 1 << 3;
export const VIRTIO_NET_HASH_TYPE_TCPv6 = 1 << 4;
export const VIRTIO_NET_HASH_TYPE_UDPv6 = 1 << 5;
export const VIRTIO_NET_HASH_TYPE_IP_EX = 1 << 6;
export const VIRTIO_NET_HASH_TYPE_TCP_EX = 1 << 7;
export const VIRTIO_NET_HASH_TYPE_UDP_EX = 1 << 8;
/** Every hash type this specification defines. */
export const VIRTIO_NET_HASH_TYPE_ALL = 0x1ff;

export const VIRTIO_NET_HASH_REPORT_NONE = 0;
export const VIRTIO_NET_HASH_REPORT_IPv4 = 1;
export const VIRTIO_NET_HASH_REPORT_TCPv4 = 2;
export const VIRTIO_NET_HASH_REPORT_UDPv4 = 3;
export const VIRTIO_NET_HASH_REPORT_IPv6 = 4;
export const VIRTIO_NET_HASH_REPORT_TCPv6 = 5;
export const VIRTIO_NET_HASH_REPORT_UDPv6 = 6;
export const VIRTIO_NET_HASH_REPORT_IPv6_EX = 7;
export const VIRTIO_NET_HASH_REPORT_TCPv6_EX = 8;
export const VIRTIO_NET_HASH_REPORT_UDPv6_EX = 9;

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
export const VIRTIO_NET_CTRL_MQ_RSS_CONFIG = 1;
export const VIRTIO_NET_CTRL_MQ_HASH_CONFIG = 2;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;

export const VIRTIO_NET_CTRL_GUEST_OFFLOADS = 5;
export const VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET = 0;

export const VIRTIO_NET_CTRL_HASH_TUNNEL = 7;
export const VIRTIO_NET_CTRL_HASH_TUNNEL_SET = 0;

export const VIRTIO_NET_CTRL_NOTF_COAL = 6;
export const VIRTIO_NET_CTRL_NOTF_COAL_TX_SET = 0;
export const VIRTIO_NET_CTRL_NOTF_COAL_RX_SET = 1;
export const VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET = 2;
export const VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET = 3;

export const VIRTIO_NET_CTRL_STATS = 8;
export const VIRTIO_NET_CTRL_STATS_QUERY = 0;
export const VIRTIO_NET_CTRL_STATS_GET = 1;

// ---- Statistics types (spec 5.1.6.5.9): bits of types_bitmap, and the reply types. ----
export const VIRTIO_NET_STATS_TYPE_RX_BASIC = 1n << 0n;
export const VIRTIO_NET_STATS_TYPE_RX_CSUM = 1n << 1n;
export const VIRTIO_NET_STATS_TYPE_RX_GSO = 1n << 2n;
export const VIRTIO_NET_STATS_TYPE_RX_SPEED = 1n << 3n;
export const VIRTIO_NET_STATS_TYPE_TX_BASIC = 1n << 16n;
export const VIRTIO_NET_STATS_TYPE_TX_CSUM = 1n << 17n;
export const VIRTIO_NET_STATS_TYPE_TX_GSO = 1n << 18n;
export const VIRTIO_NET_STATS_TYPE_TX_SPEED = 1n << 19n;
export const VIRTIO_NET_STATS_TYPE_CVQ = 1n << 32n;
export const VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC = 0;
export const VIRTIO_NET_STATS_TYPE_REPLY_RX_CSUM = 1;
export const VIRTIO_NET_STATS_TYPE_REPLY_RX_GSO = 2;
export const VIRTIO_NET_STATS_TYPE_REPLY_RX_SPEED = 3;
export const VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC = 16;
export const VIRTIO_NET_STATS_TYPE_REPLY_TX_CSUM = 17;
export const VIRTIO_NET_STATS_TYPE_REPLY_TX_GSO = 18;
export const VIRTIO_NET_STATS_TYPE_REPLY_TX_SPEED = 19;
export const VIRTIO_NET_STATS_TYPE_REPLY_CVQ = 32;

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
 * Size of struct virtio_net_hdr for the negotiated features, in bytes: 20 with
 * VIRTIO_NET_F_HASH_REPORT (hash_value, hash_report, padding_reserved), else 12 with
 * VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF, else 10 (legacy).
 */
export function netHdrSize(version1: boolean, mrgRxbuf: boolean, hashReport = false): number {
  if (hashReport) return VIRTIO_NET_HDR_HASH_SIZE;
  return version1 || mrgRxbuf ? VIRTIO_NET_HDR_SIZE : VIRTIO_NET_HDR_LEGACY_SIZE;
}
