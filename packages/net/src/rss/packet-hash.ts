/**
 * Hash calculation for incoming packets (spec 5.1.6.4.3): picks the fields of an Ethernet
 * frame the enabled hash types select (IPv4, IPv6 with and without extension headers, TCP and
 * UDP ports) and hashes them with the Toeplitz key. Every offset is bounds-checked against the
 * frame; a frame too short or malformed for a type falls back to the next type, and to "no
 * hash" at the end. Allocation-free: the fields are hashed where they lie in the frame.
 */
import {
  VIRTIO_NET_HASH_REPORT_IPv4,
  VIRTIO_NET_HASH_REPORT_IPv6,
  VIRTIO_NET_HASH_REPORT_IPv6_EX,
  VIRTIO_NET_HASH_REPORT_NONE,
  VIRTIO_NET_HASH_REPORT_TCPv4,
  VIRTIO_NET_HASH_REPORT_TCPv6,
  VIRTIO_NET_HASH_REPORT_TCPv6_EX,
  VIRTIO_NET_HASH_REPORT_UDPv4,
  VIRTIO_NET_HASH_REPORT_UDPv6,
  VIRTIO_NET_HASH_REPORT_UDPv6_EX,
  VIRTIO_NET_HASH_TYPE_IP_EX,
  VIRTIO_NET_HASH_TYPE_IPv4,
  VIRTIO_NET_HASH_TYPE_IPv6,
  VIRTIO_NET_HASH_TYPE_TCP_EX,
  VIRTIO_NET_HASH_TYPE_TCPv4,
  VIRTIO_NET_HASH_TYPE_TCPv6,
  VIRTIO_NET_HASH_TYPE_UDP_EX,
  VIRTIO_NET_HASH_TYPE_UDPv4,
  VIRTIO_NET_HASH_TYPE_UDPv6,
} from '../protocol.js';
import { Toeplitz } from './toeplitz.js';
import { InnerHeader } from './tunnel.js';

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const NEXTHDR_HOP = 0;
const NEXTHDR_ROUTING = 43;
const NEXTHDR_FRAGMENT = 44;
const NEXTHDR_DEST = 60;
/** IPv6 destination option carrying the home address (RFC 6275). */
const IPV6_TLV_HAO = 0xc9;
/** Extension headers walked at most before giving up on finding the transport header. */
const MAX_EXT_HEADERS = 8;
const TCP_MIN = 20;
const UDP_MIN = 8;

const be16 = (f: Uint8Array, o: number): number => (f[o] << 8) | f[o + 1];

export class PacketHasher {
  /** The enabled hash types (VIRTIO_NET_HASH_TYPE_*); 0 calculates no hash. */
  hashTypes = 0;
  /** The hash of the last packet {@link compute} reported a type for. */
  value = 0;
  /** Encapsulation types whose inner header is hashed (VIRTIO_NET_CTRL_HASH_TUNNEL_SET); 0: the outer header. */
  tunnelTypes = 0;
  readonly #inner = new InnerHeader();
  readonly toeplitz = new Toeplitz();
  // Scratch of the IPv6 extension header walk.
  #home = -1;
  #rt2 = -1;
  #l4 = 0;
  #proto = -1;

  /**
   * Calculates the hash of an Ethernet frame per the enabled hash types: returns the
   * VIRTIO_NET_HASH_REPORT_* of the hash calculated (its value in {@link value}), or
   * VIRTIO_NET_HASH_REPORT_NONE when no enabled type applies.
   */
  compute(frame: Uint8Array): number {
    if (this.hashTypes === 0 || frame.length < 14) return VIRTIO_NET_HASH_REPORT_NONE;
    let l3 = 14;
    let type = be16(frame, 12);
    if (type === ETH_P_8021Q || type === ETH_P_8021AD) {
      if (frame.length < 18) return VIRTIO_NET_HASH_REPORT_NONE;
      type = be16(frame, 16);
      l3 = 18;
    }
    if (this.tunnelTypes !== 0 && this.#inner.find(frame, type, l3, this.tunnelTypes)) {
      type = this.#inner.type;
      l3 = this.#inner.l3;
    }
    if (type === ETH_P_IP) return this.#ipv4(frame, l3);
    if (type === ETH_P_IPV6) return this.#ipv6(frame, l3);
    return VIRTIO_NET_HASH_REPORT_NONE;
  }

  #ipv4(f: Uint8Array, l3: number): number {
    const types = this.hashTypes;
    if (l3 + 20 > f.length || f[l3] >> 4 !== 4) return VIRTIO_NET_HASH_REPORT_NONE;
    const ihl = (f[l3] & 0xf) * 4;
    if (ihl < 20 || l3 + ihl > f.length) return VIRTIO_NET_HASH_REPORT_NONE;
    // A fragment (more fragments, or an offset) carries no usable transport header.
    const whole = (be16(f, l3 + 6) & 0x3fff) === 0;
    const proto = f[l3 + 9];
    const l4 = l3 + ihl;
    const t = this.toeplitz;
    if (types & VIRTIO_NET_HASH_TYPE_TCPv4 && whole && proto === IPPROTO_TCP && l4 + TCP_MIN <= f.length) {
      this.value = t.update(t.update(0, f, l3 + 12, 8, 0), f, l4, 4, 8);
      return VIRTIO_NET_HASH_REPORT_TCPv4;
    }
    if (types & VIRTIO_NET_HASH_TYPE_UDPv4 && whole && proto === IPPROTO_UDP && l4 + UDP_MIN <= f.length) {
      this.value = t.update(t.update(0, f, l3 + 12, 8, 0), f, l4, 4, 8);
      return VIRTIO_NET_HASH_REPORT_UDPv4;
    }
    if (types & VIRTIO_NET_HASH_TYPE_IPv4) {
      this.value = t.update(0, f, l3 + 12, 8, 0);
      return VIRTIO_NET_HASH_REPORT_IPv4;
    }
    return VIRTIO_NET_HASH_REPORT_NONE;
  }

  #ipv6(f: Uint8Array, l3: number): number {
    const types = this.hashTypes;
    if (l3 + 40 > f.length || f[l3] >> 4 !== 6) return VIRTIO_NET_HASH_REPORT_NONE;
    const ext = this.#walk(f, l3);
    const l4 = this.#l4;
    const tcp = this.#proto === IPPROTO_TCP && l4 + TCP_MIN <= f.length;
    const udp = this.#proto === IPPROTO_UDP && l4 + UDP_MIN <= f.length;
    const t = this.toeplitz;
    if (ext) {
      // Home address option and type 2 routing header replace source and destination.
      const src = this.#home >= 0 ? this.#home : l3 + 8;
      const dst = this.#rt2 >= 0 ? this.#rt2 : l3 + 24;
      if (types & VIRTIO_NET_HASH_TYPE_TCP_EX && tcp) {
        this.value = t.update(t.update(t.update(0, f, src, 16, 0), f, dst, 16, 16), f, l4, 4, 32);
        return VIRTIO_NET_HASH_REPORT_TCPv6_EX;
      }
      if (types & VIRTIO_NET_HASH_TYPE_UDP_EX && udp) {
        this.value = t.update(t.update(t.update(0, f, src, 16, 0), f, dst, 16, 16), f, l4, 4, 32);
        return VIRTIO_NET_HASH_REPORT_UDPv6_EX;
      }
      if (types & VIRTIO_NET_HASH_TYPE_IP_EX) {
        this.value = t.update(t.update(0, f, src, 16, 0), f, dst, 16, 16);
        return VIRTIO_NET_HASH_REPORT_IPv6_EX;
      }
    }
    if (types & VIRTIO_NET_HASH_TYPE_TCPv6 && tcp) {
      this.value = t.update(t.update(0, f, l3 + 8, 32, 0), f, l4, 4, 32);
      return VIRTIO_NET_HASH_REPORT_TCPv6;
    }
    if (types & VIRTIO_NET_HASH_TYPE_UDPv6 && udp) {
      this.value = t.update(t.update(0, f, l3 + 8, 32, 0), f, l4, 4, 32);
      return VIRTIO_NET_HASH_REPORT_UDPv6;
    }
    if (types & VIRTIO_NET_HASH_TYPE_IPv6) {
      this.value = t.update(0, f, l3 + 8, 32, 0);
      return VIRTIO_NET_HASH_REPORT_IPv6;
    }
    return VIRTIO_NET_HASH_REPORT_NONE;
  }

  /**
   * Walks the IPv6 extension headers after the fixed header at `l3`: sets the transport
   * header's offset and protocol (-1 when not reachable: a fragment, too many or truncated
   * headers), the home address and type 2 routing address offsets (-1 when absent). Returns
   * whether the packet has extension headers.
   */
  #walk(f: Uint8Array, l3: number): boolean {
    this.#home = -1;
    this.#rt2 = -1;
    let next = f[l3 + 6];
    let off = l3 + 40;
    let ext = false;
    for (let n = 0; ; n++) {
      if (next !== NEXTHDR_HOP && next !== NEXTHDR_ROUTING && next !== NEXTHDR_DEST && next !== NEXTHDR_FRAGMENT) break;
      ext = true;
      if (n === MAX_EXT_HEADERS || off + 8 > f.length) {
        next = -1;
        break;
      }
      const len = next === NEXTHDR_FRAGMENT ? 8 : (f[off + 1] + 1) * 8;
      if (off + len > f.length) {
        next = -1;
        break;
      }
      if (next === NEXTHDR_FRAGMENT) {
        // Offset or more fragments: the transport header is not (all) here.
        if ((be16(f, off + 2) & 0xfff9) !== 0) {
          next = -1;
          break;
        }
      } else if (next === NEXTHDR_ROUTING) {
        // Type 2 (RFC 6275): one address, segments left 1.
        if (f[off + 2] === 2 && f[off + 1] === 2 && f[off + 3] === 1) this.#rt2 = off + 8;
      } else if (next === NEXTHDR_DEST) {
        this.#homeAddress(f, off + 2, off + len);
      }
      next = f[off];
      off += len;
    }
    this.#proto = next;
    this.#l4 = off;
    return ext;
  }

  /** Finds the home address option among the options in [p, end). */
  #homeAddress(f: Uint8Array, p: number, end: number): void {
    while (p < end) {
      const type = f[p];
      if (type === 0) {
        p++; // Pad1
        continue;
      }
      if (p + 2 > end) return;
      const len = f[p + 1];
      if (type === IPV6_TLV_HAO && len === 16 && p + 18 <= end) this.#home = p + 2;
      p += 2 + len;
    }
  }
}
