/**
 * The framing of struct virtio_blk_req in a descriptor chain (spec 5.2.6): the 16-byte header
 * at the start of the device-readable part, the status byte as the last byte of the
 * device-writable part, `data` in between (device-readable for writes, device-writable for
 * reads). With VIRTIO_F_VERSION_1 the framing is independent of descriptor boundaries
 * (spec 2.6.4), so every field may straddle segments.
 */
import type { DescriptorChain, GuestMemory, Segment } from '@virtio/ring';
import { VIRTIO_BLK_REQ_HEADER_SIZE } from './protocol.js';

/** A chain whose framing is usable: its header was read and it has a status byte. */
export interface BlkRequestFrame {
  /** `type` of the header; -1 when the readable part is shorter than the header. */
  readonly type: number;
  /** `sector` of the header; -1 when it is 2^53 or more (beyond any capacity). */
  readonly sector: number;
  /** Guest-physical address of the status byte. */
  readonly statusAddr: number;
  /** Bytes of `data` in the device-readable part (after the header). */
  readonly outLength: number;
  /** Bytes of `data` in the device-writable part (before the status byte). */
  readonly inLength: number;
}

/**
 * Reads the framing of `chain`. Returns null when the chain has no device-writable byte, so
 * there is no status byte to answer in (the device then cannot complete it per the spec).
 * @throws GuestMemoryError only for hand-built chains outside memory (popped chains are validated)
 */
export function readFrame(memory: GuestMemory, chain: DescriptorChain): BlkRequestFrame | null {
  const statusAddr = lastByte(chain.writable);
  if (statusAddr < 0) return null;
  const inLength = chain.writableLength - 1;
  if (chain.readableLength < VIRTIO_BLK_REQ_HEADER_SIZE) {
    return { type: -1, sector: 0, statusAddr, outLength: 0, inLength };
  }
  const first = chain.readable[0];
  let type: number;
  let lo: number;
  let hi: number;
  if (first.len >= VIRTIO_BLK_REQ_HEADER_SIZE) {
    type = memory.readU32(first.addr);
    lo = memory.readU32(first.addr + 8);
    hi = memory.readU32(first.addr + 12);
  } else {
    const h = new Uint8Array(VIRTIO_BLK_REQ_HEADER_SIZE);
    gather(memory, chain.readable, 0, h);
    const dv = new DataView(h.buffer);
    type = dv.getUint32(0, true);
    lo = dv.getUint32(8, true);
    hi = dv.getUint32(12, true);
  }
  const sector = hi >= 2 ** 21 ? -1 : hi * 2 ** 32 + lo;
  return { type, sector, statusAddr, outLength: chain.readableLength - VIRTIO_BLK_REQ_HEADER_SIZE, inLength };
}

/** Address of the last byte of the last non-empty segment, or -1 when all are empty. */
function lastByte(segs: readonly Segment[]): number {
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i].len > 0) return segs[i].addr + segs[i].len - 1;
  return -1;
}

/**
 * Zero-copy views of `len` bytes of `segs`, starting `skip` bytes in: one view per contiguous
 * piece (segment and memory region), in order.
 * @throws GuestMemoryError for segments outside memory (not for popped chains)
 */
export function segmentViews(memory: GuestMemory, segs: readonly Segment[], skip: number, len: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < segs.length && len > 0; i++) {
    const s = segs[i];
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    const n = Math.min(s.len - skip, len);
    const vs = memory.views(s.addr + skip, n);
    for (let j = 0; j < vs.length; j++) out.push(vs[j]);
    len -= n;
    skip = 0;
  }
  return out;
}

/** Copies `dest.byteLength` bytes of `segs`, starting `skip` bytes in, into `dest`. */
export function gather(memory: GuestMemory, segs: readonly Segment[], skip: number, dest: Uint8Array): void {
  let off = 0;
  for (const v of segmentViews(memory, segs, skip, dest.byteLength)) {
    dest.set(v, off);
    off += v.byteLength;
  }
}

/** Copies `src` into `segs`, starting at their first byte. */
export function scatter(memory: GuestMemory, segs: readonly Segment[], src: Uint8Array): void {
  let off = 0;
  for (const v of segmentViews(memory, segs, 0, src.byteLength)) {
    v.set(src.subarray(off, off + v.byteLength));
    off += v.byteLength;
  }
}
