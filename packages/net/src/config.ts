/**
 * struct virtio_net_config (spec 5.1.4), little-endian:
 *   0: u8   mac[6]
 *   6: le16 status               (VIRTIO_NET_S_LINK_UP, VIRTIO_NET_S_ANNOUNCE)
 *   8: le16 max_virtqueue_pairs
 *  10: le16 mtu
 *  12: le32 speed                (Mbit/s; 0xffffffff unknown)   with VIRTIO_NET_F_SPEED_DUPLEX
 *  16: u8   duplex               (0 full, 1 half, 0xff unknown)
 *  17: u8   rss_max_key_size                   with VIRTIO_NET_F_RSS or VIRTIO_NET_F_HASH_REPORT
 *  18: le16 rss_max_indirection_table_length   with VIRTIO_NET_F_RSS
 *  20: le32 supported_hash_types               with VIRTIO_NET_F_RSS or VIRTIO_NET_F_HASH_REPORT
 *  24: le32 supported_tunnel_types             with VIRTIO_NET_F_HASH_TUNNEL
 */
import { ETH_ALEN } from './protocol.js';

/** Byte offsets of the fields of struct virtio_net_config. */
export const NetConfigOffset = {
  mac: 0,
  status: 6,
  max_virtqueue_pairs: 8,
  mtu: 10,
  speed: 12,
  duplex: 16,
  rss_max_key_size: 17,
  rss_max_indirection_table_length: 18,
  supported_hash_types: 20,
  supported_tunnel_types: 24,
} as const;

/** Size of the configuration space this device exposes, in bytes. */
export const NET_CONFIG_SIZE = 28;

/** The hash capabilities in the configuration space (all 0 when neither RSS nor HASH_REPORT is offered). */
export interface HashCapabilities {
  readonly maxKeySize: number;
  readonly maxIndirectionTableLength: number;
  readonly supportedHashTypes: number;
  readonly supportedTunnelTypes: number;
}

/** speed when unknown. */
export const VIRTIO_NET_SPEED_UNKNOWN = 0xffffffff;
export const VIRTIO_NET_DUPLEX_FULL = 0x00;
export const VIRTIO_NET_DUPLEX_HALF = 0x01;
export const VIRTIO_NET_DUPLEX_UNKNOWN = 0xff;

/**
 * The configuration space as bytes. Every field is read-only to the driver (spec 5.1.4.2:
 * the driver MUST NOT write them), so {@link write} is not offered; the device changes
 * mac (VIRTIO_NET_CTRL_MAC_ADDR_SET) and status (link, announce).
 */
export class NetConfig {
  readonly #bytes = new Uint8Array(NET_CONFIG_SIZE);
  readonly #view = new DataView(this.#bytes.buffer);

  constructor(mac: Uint8Array, maxPairs: number, mtu: number, speed: number, duplex: number, hash: HashCapabilities) {
    this.setMac(mac);
    this.#view.setUint8(NetConfigOffset.rss_max_key_size, hash.maxKeySize);
    this.#view.setUint16(NetConfigOffset.rss_max_indirection_table_length, hash.maxIndirectionTableLength, true);
    this.#view.setUint32(NetConfigOffset.supported_hash_types, hash.supportedHashTypes, true);
    this.#view.setUint32(NetConfigOffset.supported_tunnel_types, hash.supportedTunnelTypes, true);
    this.#view.setUint16(NetConfigOffset.max_virtqueue_pairs, maxPairs, true);
    this.#view.setUint16(NetConfigOffset.mtu, mtu, true);
    this.#view.setUint32(NetConfigOffset.speed, speed, true);
    this.#view.setUint8(NetConfigOffset.duplex, duplex);
  }

  /** Reads `width` bytes at `offset` (offset + width <= NET_CONFIG_SIZE), little-endian. */
  read(offset: number, width: 1 | 2 | 4): number {
    const v = this.#view;
    if (width === 1) return v.getUint8(offset);
    if (width === 2) return v.getUint16(offset, true);
    return v.getUint32(offset, true);
  }

  get mac(): Uint8Array {
    return this.#bytes.subarray(NetConfigOffset.mac, NetConfigOffset.mac + ETH_ALEN);
  }
  setMac(mac: Uint8Array): void {
    this.#bytes.set(mac.subarray(0, ETH_ALEN), NetConfigOffset.mac);
  }
  get status(): number {
    return this.#view.getUint16(NetConfigOffset.status, true);
  }
  set status(value: number) {
    this.#view.setUint16(NetConfigOffset.status, value, true);
  }
}
