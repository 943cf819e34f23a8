/**
 * The Internet checksum (RFC 1071): completed in software when a frame carries a partial
 * checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) that the receiver did not negotiate to accept, and
 * verified before VIRTIO_NET_HDR_F_DATA_VALID is passed on from a backend that does not
 * validate checksums itself.
 */

/**
 * Folds the ones'-complement sum of `frame[start..]` into the 16-bit field at
 * `start + offset` (which the sender pre-filled with the pseudo-header sum, as NEEDS_CSUM
 * requires). Returns false, changing nothing, when the field lies outside the frame.
 */
export function completeChecksum(frame: Uint8Array, start: number, offset: number): boolean {
  const at = start + offset;
  if (start >= frame.length || at + 2 > frame.length) return false;
  const csum = ~folds(sum16(frame, start, frame.length, 0)) & 0xffff;
  frame[at] = csum >>> 8;
  frame[at + 1] = csum & 0xff;
  return true;
}

/** The ones'-complement sum (unfolded) of frame[start..end), added to `sum`. */
function sum16(frame: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (frame[i] << 8) | frame[i + 1];
  if (i < end) sum += frame[i] << 8;
  return sum;
}

function folds(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** {@link verifyTransportChecksum}: the TCP / UDP checksum is right. */
export const CHECKSUM_OK = 1;
/** {@link verifyTransportChecksum}: nothing to verify (not TCP / UDP, a fragment, no UDP checksum, truncated). */
export const CHECKSUM_UNKNOWN = 0;
/** {@link verifyTransportChecksum}: the checksum does not match. */
export const CHECKSUM_BAD = -1;

/**
 * Verifies a frame's TCP or UDP checksum over IPv4 or IPv6 (one VLAN tag, IPv6 hop-by-hop /
 * routing / destination options headers allowed): what VIRTIO_NET_HDR_F_DATA_VALID promises.
 * Returns {@link CHECKSUM_OK}, {@link CHECKSUM_BAD}, or {@link CHECKSUM_UNKNOWN} for anything
 * it cannot verify, a UDP checksum of 0 included. Allocation-free.
 */
export function verifyTransportChecksum(f: Uint8Array): number {
  if (f.length < 14) return CHECKSUM_UNKNOWN;
  let l3 = 14;
  let type = (f[12] << 8) | f[13];
  if (type === 0x8100 || type === 0x88a8) {
    if (f.length < 18) return CHECKSUM_UNKNOWN;
    type = (f[16] << 8) | f[17];
    l3 = 18;
  }
  let l4: number;
  let end: number;
  let proto: number;
  let sum: number;
  if (type === 0x0800) {
    if (l3 + 20 > f.length || f[l3] >> 4 !== 4) return CHECKSUM_UNKNOWN;
    l4 = l3 + (f[l3] & 0xf) * 4;
    end = l3 + ((f[l3 + 2] << 8) | f[l3 + 3]);
    // Fragments carry no whole transport segment.
    if (((f[l3 + 6] << 8) | f[l3 + 7]) & 0x3fff) return CHECKSUM_UNKNOWN;
    proto = f[l3 + 9];
    sum = sum16(f, l3 + 12, l3 + 20, 0);
  } else if (type === 0x86dd) {
    if (l3 + 40 > f.length || f[l3] >> 4 !== 6) return CHECKSUM_UNKNOWN;
    end = l3 + 40 + ((f[l3 + 4] << 8) | f[l3 + 5]);
    proto = f[l3 + 6];
    l4 = l3 + 40;
    for (let n = 0; n < 8 && (proto === 0 || proto === 43 || proto === 60); n++) {
      if (l4 + 8 > f.length) return CHECKSUM_UNKNOWN;
      proto = f[l4];
      l4 += (f[l4 + 1] + 1) * 8;
    }
    sum = sum16(f, l3 + 8, l3 + 40, 0);
  } else {
    return CHECKSUM_UNKNOWN;
  }
  if (end > f.length || l4 >= end) return CHECKSUM_UNKNOWN;
  if (proto === 6) {
    if (l4 + 20 > end) return CHECKSUM_UNKNOWN;
  } else if (proto === 17) {
    if (l4 + 8 > end || (f[l4 + 6] | f[l4 + 7]) === 0) return CHECKSUM_UNKNOWN;
  } else {
    return CHECKSUM_UNKNOWN;
  }
  // Pseudo-header: addresses (summed above), protocol, transport length.
  const len = end - l4;
  sum += proto + (len & 0xffff) + (len >>> 16);
  return folds(sum16(f, l4, end, sum)) === 0xffff ? CHECKSUM_OK : CHECKSUM_BAD;
}
