/**
 * The Internet checksum (RFC 1071) a device completes in software when a frame carries a
 * partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) that the receiver did not negotiate to accept.
 */

/**
 * Folds the ones'-complement sum of `frame[start..]` into the 16-bit field at
 * `start + offset` (which the sender pre-filled with the pseudo-header sum, as NEEDS_CSUM
 * requires). Returns false, changing nothing, when the field lies outside the frame.
 */
export function completeChecksum(frame: Uint8Array, start: number, offset: number): boolean {
  const at = start + offset;
  if (start >= frame.length || at + 2 > frame.length) return false;
  let sum = 0;
  const end = frame.length;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (frame[i] << 8) | frame[i + 1];
  if (i < end) sum += frame[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const csum = ~sum & 0xffff;
  frame[at] = csum >>> 8;
  frame[at + 1] = csum & 0xff;
  return true;
}
