/**
 * The length of a frame's headers up to the transport payload (Ethernet, one optional VLAN
 * tag, IPv4 or IPv6 with hop-by-hop / routing / destination options headers, TCP or UDP): what
 * hdr_len counts (spec 5.1.6.2). Bounds-checked, allocation-free.
 */
const be16 = (f: Uint8Array, o: number): number => (f[o] << 8) | f[o + 1];

/** Bytes from the frame's start to its transport payload, or 0 when the headers cannot be parsed. */
export function headersLength(f: Uint8Array): number {
  if (f.length < 14) return 0;
  let l3 = 14;
  let type = be16(f, 12);
  if (type === 0x8100 || type === 0x88a8) {
    if (f.length < 18) return 0;
    type = be16(f, 16);
    l3 = 18;
  }
  let l4: number;
  let proto: number;
  if (type === 0x0800) {
    if (l3 + 20 > f.length) return 0;
    l4 = l3 + (f[l3] & 0xf) * 4;
    proto = f[l3 + 9];
  } else if (type === 0x86dd) {
    if (l3 + 40 > f.length) return 0;
    proto = f[l3 + 6];
    l4 = l3 + 40;
    for (let n = 0; n < 8 && (proto === 0 || proto === 43 || proto === 60); n++) {
      if (l4 + 8 > f.length) return 0;
      proto = f[l4];
      l4 += (f[l4 + 1] + 1) * 8;
    }
  } else {
    return 0;
  }
  let end: number;
  if (proto === 6) {
    const doff = (f[l4 + 12] >> 4) * 4;
    if (l4 + 20 > f.length || doff < 20) return 0;
    end = l4 + doff;
  } else if (proto === 17) {
    end = l4 + 8;
  } else {
    return 0;
  }
  return end <= f.length ? end : 0;
}
