/**
 * Offloads state configuration (spec 5.1.6.5.6, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS): the le64 of
 * VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET holds one bit per GUEST_* offload feature, at the
 * feature's bit number; only negotiated offloads may be enabled.
 */
import { featureMask, hasFeature } from '@virtio/core';
import type { NetOffloads } from '../backend.js';
import {
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
} from '../protocol.js';

/** The offload bits VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET knows (UDP tunnel GSO is not offered). */
export const GUEST_OFFLOAD_BITS = featureMask(
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
);

/** The offloads a bitmask (feature bit numbers) enables. */
export function offloadsFromBits(bits: bigint): NetOffloads {
  const has = (b: number): boolean => hasFeature(bits, b);
  return {
    csum: has(VIRTIO_NET_F_GUEST_CSUM),
    tso4: has(VIRTIO_NET_F_GUEST_TSO4),
    tso6: has(VIRTIO_NET_F_GUEST_TSO6),
    ecn: has(VIRTIO_NET_F_GUEST_ECN),
    ufo: has(VIRTIO_NET_F_GUEST_UFO),
    uso4: has(VIRTIO_NET_F_GUEST_USO4),
    uso6: has(VIRTIO_NET_F_GUEST_USO6),
  };
}
