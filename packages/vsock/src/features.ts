/**
 * Which socket types a negotiated feature set allows (spec 5.10.3): no feature bit at all means
 * stream ([vsock.dev.2]/[vsock.drv.2]); SEQPACKET without NO_IMPLIED_STREAM implies stream as
 * well ([vsock.dev.3]/[vsock.drv.3], which this implementation takes up).
 */
import { hasFeature } from '@virtio/core';
import {
  VIRTIO_VSOCK_F_NO_IMPLIED_STREAM,
  VIRTIO_VSOCK_F_SEQPACKET,
  VIRTIO_VSOCK_F_STREAM,
  VIRTIO_VSOCK_TYPE_SEQPACKET,
  VIRTIO_VSOCK_TYPE_STREAM,
} from './protocol.js';

export interface VsockTypes {
  readonly stream: boolean;
  readonly seqpacket: boolean;
}

export function negotiatedTypes(features: bigint): VsockTypes {
  const stream = hasFeature(features, VIRTIO_VSOCK_F_STREAM);
  const seqpacket = hasFeature(features, VIRTIO_VSOCK_F_SEQPACKET);
  const noImplied = hasFeature(features, VIRTIO_VSOCK_F_NO_IMPLIED_STREAM);
  return { stream: stream || !noImplied, seqpacket };
}

export function typeAllowed(types: VsockTypes, type: number): boolean {
  return type === VIRTIO_VSOCK_TYPE_STREAM ? types.stream : type === VIRTIO_VSOCK_TYPE_SEQPACKET && types.seqpacket;
}
