/**
 * Which feature bits a device may offer and a driver may accept on each transport
 * (spec 2.2 "Feature Bits", spec 6 "Reserved Feature Bits", and each transport's
 * "Features reserved for future use").
 */
import {
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ADMIN_VQ,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_NOTIF_CONFIG_DATA,
  VIRTIO_F_ORDER_PLATFORM,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_SR_IOV,
  VIRTIO_F_SUSPEND,
  VIRTIO_F_VERSION_1,
} from '../constants.js';
import { featureMask } from '../features.js';

/** The transport a device is attached through; some reserved features exist only on some transports. */
export type TransportKind = 'pci' | 'mmio' | 'ccw';

/** Bits 0..23, 42 and 50..127: feature bits for the specific device type. */
const DEVICE_TYPE_BITS = ((1n << 24n) - 1n) | featureMask(42) | (((1n << 128n) - 1n) & ~((1n << 50n) - 1n));

const RESERVED_MODERN = featureMask(
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_VERSION_1,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_ORDER_PLATFORM,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_SUSPEND,
);

/** Reserved bits only some transports support. */
const PER_TRANSPORT: Record<TransportKind, bigint> = {
  // SR-IOV and the administration virtqueue exist only on PCI; so does the device-supplied
  // notification config data (queue_notif_config_data).
  pci: featureMask(VIRTIO_F_SR_IOV, VIRTIO_F_ADMIN_VQ, VIRTIO_F_NOTIF_CONFIG_DATA),
  mmio: 0n,
  // CCW reserves VIRTIO_F_RING_RESET for future use (spec 4.3 "Features reserved for future use").
  ccw: 0n,
};

/** Legacy-only bits a transitional device may offer (spec 6.1). */
const LEGACY_ONLY = featureMask(VIRTIO_F_NOTIFY_ON_EMPTY, VIRTIO_F_ANY_LAYOUT);

/**
 * Every feature bit a device may offer (and so a driver may accept) on `transport`:
 * the device-type bits plus the reserved bits this specification defines for that transport.
 * `legacy` adds the bits a transitional device may offer for legacy drivers.
 */
export function allowedFeatures(transport: TransportKind, legacy = false): bigint {
  let mask = DEVICE_TYPE_BITS | RESERVED_MODERN | PER_TRANSPORT[transport];
  if (transport === 'ccw') mask &= ~featureMask(VIRTIO_F_RING_RESET);
  if (legacy) mask |= LEGACY_ONLY;
  return mask;
}

/**
 * Checks a device's offer against spec 2.2 and 6: no reserved, undefined or transport-unsupported
 * bit, and VIRTIO_F_VERSION_1 offered by a modern device.
 * @returns a description of each problem (empty when the offer is valid)
 */
export function offerProblems(offered: bigint, transport: TransportKind, modern: boolean): string[] {
  const problems: string[] = [];
  const stray = offered & ~allowedFeatures(transport, !modern);
  if (stray !== 0n) problems.push(`offers bits not allowed on ${transport}: 0x${stray.toString(16)}`);
  if (modern && (offered & featureMask(VIRTIO_F_VERSION_1)) === 0n) problems.push('does not offer VIRTIO_F_VERSION_1');
  return problems;
}
