// IPv4 / IPv6 frames for the hash and steering tests: Ethernet to the device's default MAC,
// addresses and ports where the spec's hash reads them (checksums are not filled in).
import { ip4, ip6, port } from './rss-vectors.js';

const DST_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const SRC_MAC = [0x02, 0, 0, 0, 0, 0x99];
export const TCP = 6;
export const UDP = 17;

/** An IPv4 frame with a TCP (20-byte) or UDP (8-byte) header and `payload` bytes. */
export function ipv4Frame(src: string, dst: string, proto: number, sport: number, dport: number, payload = 16): Uint8Array {
  const l4 = proto === TCP ? 20 : 8;
  const ip = [0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, ...ip4(src), ...ip4(dst)];
  const total = 20 + l4 + payload;
  ip[2] = total >>> 8;
  ip[3] = total & 0xff;
  const l4h = new Array<number>(l4).fill(0);
  l4h.splice(0, 4, ...port(sport), ...port(dport));
  if (proto === TCP) l4h[12] = 5 << 4; // data offset: 20 bytes
  return Uint8Array.from([...DST_MAC, ...SRC_MAC, 0x08, 0x00, ...ip, ...l4h, ...new Array<number>(payload).fill(0xab)]);
}

/**
 * An IPv6 frame: the fixed header, then `ext` (extension headers as [next-header-value, bytes]
 * pairs, chained in order), then a TCP or UDP header and `payload` bytes.
 */
export function ipv6Frame(src: string, dst: string, proto: number, sport: number, dport: number, ext: readonly [number, number[]][] = [], payload = 16): Uint8Array {
  const l4 = proto === TCP ? 20 : 8;
  const l4h = new Array<number>(l4).fill(0);
  l4h.splice(0, 4, ...port(sport), ...port(dport));
  if (proto === TCP) l4h[12] = 5 << 4;
  const chain: number[] = [];
  ext.forEach(([, bytes], i) => {
    const b = [...bytes];
    b[0] = i + 1 < ext.length ? ext[i + 1][0] : proto;
    chain.push(...b);
  });
  const first = ext.length > 0 ? ext[0][0] : proto;
  const plen = chain.length + l4 + payload;
  const ip = [0x60, 0, 0, 0, plen >>> 8, plen & 0xff, first, 64, ...ip6(src), ...ip6(dst)];
  return Uint8Array.from([...DST_MAC, ...SRC_MAC, 0x86, 0xdd, ...ip, ...chain, ...l4h, ...new Array<number>(payload).fill(0xcd)]);
}

/** A destination options header (next header 60) carrying the home address option. */
export function homeAddressOption(home: string): [number, number[]] {
  // next, hdr ext len 2 (24 bytes), PadN(2) to align, option 0xc9 len 16, address.
  return [60, [0, 2, 1, 2, 0, 0, 0xc9, 16, ...ip6(home)]];
}

/** A type 2 routing header (next header 43) carrying one address. */
export function routingType2(addr: string): [number, number[]] {
  return [43, [0, 2, 2, 1, 0, 0, 0, 0, ...ip6(addr)]];
}
