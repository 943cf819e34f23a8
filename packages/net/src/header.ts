/** struct virtio_net_hdr (spec 5.1.6) as an object, for the driver side and backends written in JavaScript. */
import { NetHdrOffset as H, VIRTIO_NET_HDR_HASH_SIZE } from './protocol.js';

/** The fields of struct virtio_net_hdr; the hash fields exist with VIRTIO_NET_F_HASH_REPORT (20-byte header). */
export interface NetHeader {
  /** VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_DATA_VALID. */
  readonly flags: number;
  /** VIRTIO_NET_HDR_GSO_* (with VIRTIO_NET_HDR_GSO_ECN). */
  readonly gsoType: number;
  /** Bytes of headers to copy into each segment (a hint without GSO). */
  readonly hdrLen: number;
  /** Maximum segment size in bytes (GSO). */
  readonly gsoSize: number;
  /** Offset in the frame where checksumming starts (NEEDS_CSUM). */
  readonly csumStart: number;
  /** Offset after csumStart where the checksum goes (NEEDS_CSUM). */
  readonly csumOffset: number;
  /** Buffers the received packet spans (1 without MRG_RXBUF); 0 on transmit. */
  readonly numBuffers: number;
  /** hash_value of a received packet (VIRTIO_NET_F_HASH_REPORT); 0 on transmit. */
  readonly hashValue?: number;
  /** hash_report (VIRTIO_NET_HASH_REPORT_*) of a received packet (VIRTIO_NET_F_HASH_REPORT); 0 on transmit. */
  readonly hashReport?: number;
}

/** A header asking for nothing: no checksum offload, no segmentation. */
export const PLAIN_HEADER: NetHeader = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0 };

/** Decodes `size` (10, 12 or 20) bytes; numBuffers is 1 for the 10-byte legacy header. */
export function decodeNetHeader(b: Uint8Array, size: number): NetHeader {
  const u16 = (o: number): number => b[o] | (b[o + 1] << 8);
  const h = {
    flags: b[H.flags],
    gsoType: b[H.gso_type],
    hdrLen: u16(H.hdr_len),
    gsoSize: u16(H.gso_size),
    csumStart: u16(H.csum_start),
    csumOffset: u16(H.csum_offset),
    numBuffers: size > H.num_buffers ? u16(H.num_buffers) : 1,
  };
  if (size < VIRTIO_NET_HDR_HASH_SIZE) return h;
  return { ...h, hashValue: (u16(H.hash_value) | (u16(H.hash_value + 2) << 16)) >>> 0, hashReport: u16(H.hash_report) };
}

/** Encodes `h` into the first `size` (10, 12 or 20) bytes of `b`. */
export function encodeNetHeader(h: NetHeader, b: Uint8Array, size: number): void {
  const u16 = (o: number, v: number): void => {
    b[o] = v & 0xff;
    b[o + 1] = (v >>> 8) & 0xff;
  };
  b[H.flags] = h.flags;
  b[H.gso_type] = h.gsoType;
  u16(H.hdr_len, h.hdrLen);
  u16(H.gso_size, h.gsoSize);
  u16(H.csum_start, h.csumStart);
  u16(H.csum_offset, h.csumOffset);
  if (size > H.num_buffers) u16(H.num_buffers, h.numBuffers);
  if (size >= VIRTIO_NET_HDR_HASH_SIZE) {
    const v = h.hashValue ?? 0;
    u16(H.hash_value, v & 0xffff);
    u16(H.hash_value + 2, v >>> 16);
    u16(H.hash_report, h.hashReport ?? 0);
    u16(H.padding_reserved, 0);
  }
}
