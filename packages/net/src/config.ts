/**
 * struct virtio_net_config (spec 5.1.4), little-endian:
 *   0: u8   mac[6]
 *   6: le16 status               (VIRTIO_NET_S_LINK_UP, VIRTIO_NET_S_ANNOUNCE)
 *   8: le16 max_virtqueue_pairs
 *  10: le16 mtu
 *  12: le32 speed                (Mbit/s; 0xffffffff unknown)   with VIRTIO_NET_F_SPEED_DUPLEX
 *  16: u8   duplex               (0 full, 1 half, 0xff unknown)
 * The RSS fields that follow belong to features this device does not offer, so the
 * configuration space ends after duplex.
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
} as const;

/** Size of the configuration space this device exposes, in bytes. */
export const NET_CONFIG_SIZE = 17;

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

  constructor(mac: Uint8Array, maxPairs: number, mtu: number, speed: number, duplex: number) {
    this.setMac(mac);
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
