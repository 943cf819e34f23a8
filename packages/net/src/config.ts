/**
 * struct virtio_net_config (spec 5.1.4), little-endian:
 *   0: u8   mac[6]
 *   6: le16 status               (VIRTIO_NET_S_LINK_UP, VIRTIO_NET_S_ANNOUNCE)
 *   8: le16 max_virtqueue_pairs
 *  10: le16 mtu
 * Later fields (speed, duplex, RSS) belong to features this device does not offer, so the
 * configuration space ends after mtu.
 */
import { ETH_ALEN } from './protocol.js';

/** Byte offsets of the fields of struct virtio_net_config. */
export const NetConfigOffset = {
  mac: 0,
  status: 6,
  max_virtqueue_pairs: 8,
  mtu: 10,
} as const;

/** Size of the configuration space this device exposes, in bytes. */
export const NET_CONFIG_SIZE = 12;

/**
 * The configuration space as bytes. Every field is read-only to the driver (spec 5.1.4.2:
 * the driver MUST NOT write them), so {@link write} is not offered; the device changes
 * mac (VIRTIO_NET_CTRL_MAC_ADDR_SET) and status (link, announce).
 */
export class NetConfig {
  readonly #bytes = new Uint8Array(NET_CONFIG_SIZE);
  readonly #view = new DataView(this.#bytes.buffer);

  constructor(mac: Uint8Array, maxPairs: number, mtu: number) {
    this.setMac(mac);
    this.#view.setUint16(NetConfigOffset.max_virtqueue_pairs, maxPairs, true);
    this.#view.setUint16(NetConfigOffset.mtu, mtu, true);
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
