/** Which gso_type values a header may carry under a set of negotiated offloads (spec 5.1.6.2, 5.1.6.4). */
import type { NetOffloads } from './backend.js';
import {
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_UDP_L4,
} from './protocol.js';

/**
 * Whether `gsoType` (with its ECN bit) is allowed: NONE always; TCPV4 with tso4, TCPV6 with
 * tso6, UDP with ufo, UDP_L4 with uso4 or uso6; the ECN bit only with ecn and a TCP type.
 */
export function gsoAllowed(gsoType: number, o: NetOffloads): boolean {
  const ecn = (gsoType & VIRTIO_NET_HDR_GSO_ECN) !== 0;
  const base = gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
  switch (base) {
    case VIRTIO_NET_HDR_GSO_NONE:
      return !ecn;
    case VIRTIO_NET_HDR_GSO_TCPV4:
      return o.tso4 && (!ecn || o.ecn);
    case VIRTIO_NET_HDR_GSO_TCPV6:
      return o.tso6 && (!ecn || o.ecn);
    case VIRTIO_NET_HDR_GSO_UDP:
      return o.ufo && !ecn;
    case VIRTIO_NET_HDR_GSO_UDP_L4:
      return (o.uso4 || o.uso6) && !ecn;
    default:
      return false;
  }
}
