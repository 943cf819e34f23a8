/**
 * The socket device's structures and constants (spec 5.10 "Socket Device").
 */
import { VIRTIO_ID_VSOCK } from '@virtio/core';

/** Device ID of the socket device (spec 5.10.1). */
export const VIRTIO_VSOCK_DEVICE_ID = VIRTIO_ID_VSOCK;
/** Virtqueue indices (spec 5.10.2). */
export const VIRTIO_VSOCK_RX = 0;
export const VIRTIO_VSOCK_TX = 1;
export const VIRTIO_VSOCK_EVENT = 2;

/** Feature bits (spec 5.10.3). */
export const VIRTIO_VSOCK_F_STREAM = 0;
export const VIRTIO_VSOCK_F_SEQPACKET = 1;
export const VIRTIO_VSOCK_F_NO_IMPLIED_STREAM = 2;

/** struct virtio_vsock_config: le64 guest_cid at offset 0; 8 bytes (spec 5.10.4). */
export const VIRTIO_VSOCK_CONFIG_GUEST_CID = 0;
export const VIRTIO_VSOCK_CONFIG_BYTES = 8;

/** Well-known CID of the host (spec 5.10.4). */
export const VMADDR_CID_HOST = 2;

/** Whether `cid` is one of the CIDs that cannot be a guest's (0, 1, 2, 0xffffffff, or 2^32 and above). */
export function isReservedCid(cid: number): boolean {
  return !Number.isInteger(cid) || cid <= VMADDR_CID_HOST || cid >= 0xffffffff;
}

/** op values (spec 5.10.6). */
export const VIRTIO_VSOCK_OP_INVALID = 0;
export const VIRTIO_VSOCK_OP_REQUEST = 1;
export const VIRTIO_VSOCK_OP_RESPONSE = 2;
export const VIRTIO_VSOCK_OP_RST = 3;
export const VIRTIO_VSOCK_OP_SHUTDOWN = 4;
export const VIRTIO_VSOCK_OP_RW = 5;
export const VIRTIO_VSOCK_OP_CREDIT_UPDATE = 6;
export const VIRTIO_VSOCK_OP_CREDIT_REQUEST = 7;

/** type values (spec 5.10.6.2). */
export const VIRTIO_VSOCK_TYPE_STREAM = 1;
export const VIRTIO_VSOCK_TYPE_SEQPACKET = 2;
export type VsockType = typeof VIRTIO_VSOCK_TYPE_STREAM | typeof VIRTIO_VSOCK_TYPE_SEQPACKET;

/** SHUTDOWN flags (spec 5.10.6.4): bit 0 the peer receives no more, bit 1 the peer sends no more. */
export const VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE = 1 << 0;
export const VIRTIO_VSOCK_SHUTDOWN_F_SEND = 1 << 1;

/** RW flags of seqpacket sockets (spec 5.10.6.5.1): end of message, end of record. */
export const VIRTIO_VSOCK_SEQ_EOM = 1 << 0;
export const VIRTIO_VSOCK_SEQ_EOR = 1 << 1;

/** struct virtio_vsock_event id (spec 5.10.6.6). */
export const VIRTIO_VSOCK_EVENT_TRANSPORT_RESET = 0;
/** Size of struct virtio_vsock_event, in bytes. */
export const VIRTIO_VSOCK_EVENT_SIZE = 4;

/** Size of struct virtio_vsock_hdr, in bytes. */
export const VIRTIO_VSOCK_HDR_SIZE = 44;

/**
 * struct virtio_vsock_hdr (spec 5.10.6). CIDs are numbers: their upper 32 bits are reserved
 * and zero. Counters and lengths are u32.
 */
export interface VsockHeader {
  srcCid: number;
  dstCid: number;
  srcPort: number;
  dstPort: number;
  /** Payload size, in bytes. */
  len: number;
  type: number;
  op: number;
  flags: number;
  /** Total receive buffer space of the sender for this socket, in bytes. */
  bufAlloc: number;
  /** The sender's free-running count of payload bytes it consumed. */
  fwdCnt: number;
}

/** A packet: header plus exactly `hdr.len` payload bytes. */
export interface VsockPacket {
  readonly hdr: VsockHeader;
  readonly payload: Uint8Array;
}

export const EMPTY_PAYLOAD = new Uint8Array(0);

/** Encodes `hdr` little-endian into `dest` (at least 44 bytes). */
export function encodeHeader(hdr: VsockHeader, dest: DataView, at = 0): void {
  dest.setUint32(at, hdr.srcCid, true);
  dest.setUint32(at + 4, 0, true);
  dest.setUint32(at + 8, hdr.dstCid, true);
  dest.setUint32(at + 12, 0, true);
  dest.setUint32(at + 16, hdr.srcPort, true);
  dest.setUint32(at + 20, hdr.dstPort, true);
  dest.setUint32(at + 24, hdr.len, true);
  dest.setUint16(at + 28, hdr.type, true);
  dest.setUint16(at + 30, hdr.op, true);
  dest.setUint32(at + 32, hdr.flags, true);
  dest.setUint32(at + 36, hdr.bufAlloc, true);
  dest.setUint32(at + 40, hdr.fwdCnt, true);
}

/**
 * Decodes a header from 44 bytes. A CID with non-zero upper 32 bits decodes as 0xffffffff
 * (reserved), so it never matches a real address.
 */
export function decodeHeader(src: DataView, at = 0): VsockHeader {
  const cid = (o: number) => (src.getUint32(at + o + 4, true) === 0 ? src.getUint32(at + o, true) : 0xffffffff);
  return {
    srcCid: cid(0),
    dstCid: cid(8),
    srcPort: src.getUint32(at + 16, true),
    dstPort: src.getUint32(at + 20, true),
    len: src.getUint32(at + 24, true),
    type: src.getUint16(at + 28, true),
    op: src.getUint16(at + 30, true),
    flags: src.getUint32(at + 32, true),
    bufAlloc: src.getUint32(at + 36, true),
    fwdCnt: src.getUint32(at + 40, true),
  };
}
