/**
 * Inner header hash (spec 5.1.6.4.4, VIRTIO_NET_F_HASH_TUNNEL): finds the inner IP header of a
 * packet whose outer header matches an enabled encapsulation type, so the hash is calculated
 * over the inner header (one level of encapsulation). Bounds-checked, allocation-free.
 */

export const VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2784 = 1 << 0;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2890 = 1 << 1;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_7676 = 1 << 2;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_UDP = 1 << 3;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN = 1 << 4;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN_GPE = 1 << 5;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_GENEVE = 1 << 6;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_IPIP = 1 << 7;
export const VIRTIO_NET_HASH_TUNNEL_TYPE_NVGRE = 1 << 8;
/** Every encapsulation type the specification defines. */
export const VIRTIO_NET_HASH_TUNNEL_TYPE_ALL = 0x1ff;

/**
 * supported_tunnel_types of this device: IP in IP, GRE without key or sequence number
 * (RFC 2784) carrying IP, VXLAN, VXLAN-GPE and GENEVE.
 */
export const SUPPORTED_TUNNEL_TYPES =
  VIRTIO_NET_HASH_TUNNEL_TYPE_IPIP |
  VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2784 |
  VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN |
  VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN_GPE |
  VIRTIO_NET_HASH_TUNNEL_TYPE_GENEVE;

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_TEB = 0x6558;
const IPPROTO_IPIP = 4;
const IPPROTO_IPV6 = 41;
const IPPROTO_GRE = 47;
const IPPROTO_UDP = 17;
const VXLAN_PORT = 4789;
const VXLAN_GPE_PORT = 4790;
const GENEVE_PORT = 6081;

const be16 = (f: Uint8Array, o: number): number => (f[o] << 8) | f[o + 1];

/** Where an inner header starts: its EtherType (0x0800 / 0x86dd) and offset; type 0 when none. */
export class InnerHeader {
  type = 0;
  l3 = 0;

  /**
   * Looks behind the outer IP header of type `type` at `l3` for an encapsulation type in
   * `enabled`. Returns whether the packet is encapsulated (then {@link type} / {@link l3} name
   * the inner IP header).
   */
  find(f: Uint8Array, type: number, l3: number, enabled: number): boolean {
    let proto: number;
    let l4: number;
    if (type === ETH_P_IP) {
      if (l3 + 20 > f.length || f[l3] >> 4 !== 4 || be16(f, l3 + 6) & 0x3fff) return false;
      proto = f[l3 + 9];
      l4 = l3 + (f[l3] & 0xf) * 4;
    } else if (type === ETH_P_IPV6) {
      if (l3 + 40 > f.length || f[l3] >> 4 !== 6) return false;
      proto = f[l3 + 6];
      l4 = l3 + 40;
    } else {
      return false;
    }
    if (enabled & VIRTIO_NET_HASH_TUNNEL_TYPE_IPIP && (proto === IPPROTO_IPIP || proto === IPPROTO_IPV6)) {
      return this.#ip(proto === IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6, l4);
    }
    if (enabled & VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2784 && proto === IPPROTO_GRE && l4 + 4 <= f.length) {
      // RFC 2784: C bit only (checksum and reserved1 follow), version 0.
      const flags = be16(f, l4);
      if ((flags & 0x7fff) !== 0) return false;
      return this.#ip(be16(f, l4 + 2), l4 + (flags & 0x8000 ? 8 : 4));
    }
    if (proto !== IPPROTO_UDP || l4 + 16 > f.length) return false;
    const port = be16(f, l4 + 2);
    const hdr = l4 + 8;
    if (enabled & VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN && port === VXLAN_PORT) {
      return (f[hdr] & 0x08) !== 0 && this.#ethernet(f, hdr + 8);
    }
    if (enabled & VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN_GPE && port === VXLAN_GPE_PORT) {
      const next = f[hdr + 3];
      if (next === 3) return this.#ethernet(f, hdr + 8);
      return next === 1 || next === 2 ? this.#ip(next === 1 ? ETH_P_IP : ETH_P_IPV6, hdr + 8) : false;
    }
    if (enabled & VIRTIO_NET_HASH_TUNNEL_TYPE_GENEVE && port === GENEVE_PORT) {
      if (f[hdr] >> 6 !== 0) return false;
      const inner = hdr + 8 + (f[hdr] & 0x3f) * 4;
      const ptype = be16(f, hdr + 2);
      return ptype === ETH_P_TEB ? this.#ethernet(f, inner) : this.#ip(ptype, inner);
    }
    return false;
  }

  #ethernet(f: Uint8Array, at: number): boolean {
    if (at + 14 > f.length) return false;
    return this.#ip(be16(f, at + 12), at + 14);
  }

  #ip(type: number, l3: number): boolean {
    if (type !== ETH_P_IP && type !== ETH_P_IPV6) return false;
    this.type = type;
    this.l3 = l3;
    return true;
  }
}
