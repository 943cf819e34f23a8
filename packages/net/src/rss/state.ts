/**
 * Receive hashing and steering state of one activation: the hash parameters set by
 * VIRTIO_NET_CTRL_MQ_RSS_CONFIG (VIRTIO_NET_F_RSS) or VIRTIO_NET_CTRL_MQ_HASH_CONFIG
 * (VIRTIO_NET_F_HASH_REPORT), and the RSS indirection table (spec 5.1.6.5.6.4, 5.1.6.5.7).
 * Both commands are validated completely before anything changes.
 */
import { VIRTIO_NET_HASH_TYPE_ALL } from '../protocol.js';
import { PacketHasher } from './packet-hash.js';
import { TOEPLITZ_KEY_SIZE } from './toeplitz.js';

/** rss_max_key_size the device reports: the 40 bytes a 36-byte IPv6 + ports input uses ([net.dev.7]). */
export const RSS_MAX_KEY_SIZE = TOEPLITZ_KEY_SIZE;
/** rss_max_indirection_table_length the device reports ([net.dev.8]: at least 128). */
export const RSS_MAX_INDIRECTION_TABLE_LENGTH = 128;
/** supported_hash_types the device reports: every type of the spec. */
export const SUPPORTED_HASH_TYPES = VIRTIO_NET_HASH_TYPE_ALL;

/** rss_rq_id: bits 1..16 of a receive virtqueue index (the receive queue number), bit 15 reserved. */
const RQ_ID_RESERVED = 0x8000;

export class RxHash {
  readonly hasher = new PacketHasher();
  /** Steering by the indirection table is in force (an RSS_CONFIG was accepted and not superseded). */
  rss = false;
  /** The indirection table: queue pair numbers; indirection_table_mask + 1 entries used. */
  readonly table = new Uint16Array(RSS_MAX_INDIRECTION_TABLE_LENGTH);
  mask = 0;
  /** Queue pair of packets without a hash. */
  unclassified = 0;

  /** The receive queue pair of a packet whose hash compute() reported `report` for. RSS steering only. */
  select(report: number): number {
    return report === 0 ? this.unclassified : this.table[this.hasher.value & this.mask];
  }

  /**
   * VIRTIO_NET_CTRL_MQ_RSS_CONFIG (struct virtio_net_rss_config). `pairs` is
   * max_virtqueue_pairs. Returns the queue pairs the configuration uses (the most of max_tx_vq
   * and the receive queues it names), or 0 for a malformed or unsupported configuration
   * (nothing changed).
   */
  setRss(data: Uint8Array, pairs: number): number {
    if (data.length < 8) return 0;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const types = dv.getUint32(0, true);
    const mask = dv.getUint16(4, true);
    const entries = mask + 1;
    // A power of two, at most rss_max_indirection_table_length.
    if (entries & mask || entries > RSS_MAX_INDIRECTION_TABLE_LENGTH) return 0;
    const keyAt = 8 + 2 * entries + 3;
    if (data.length < keyAt) return 0;
    const keyLength = data[keyAt - 1];
    if (keyLength > RSS_MAX_KEY_SIZE || data.length !== keyAt + keyLength) return 0;
    if (types & ~SUPPORTED_HASH_TYPES) return 0;
    const maxTx = dv.getUint16(keyAt - 3, true);
    if (maxTx < 1 || maxTx > pairs) return 0;
    let used = maxTx;
    for (let i = -1; i < entries; i++) {
      const id = dv.getUint16(i < 0 ? 6 : 8 + 2 * i, true);
      if (id & RQ_ID_RESERVED || id >= pairs) return 0;
      if (id + 1 > used) used = id + 1;
    }
    this.hasher.hashTypes = types;
    this.hasher.toeplitz.setKey(data.subarray(keyAt, keyAt + keyLength));
    this.mask = mask;
    this.unclassified = dv.getUint16(6, true);
    for (let i = 0; i < entries; i++) this.table[i] = dv.getUint16(8 + 2 * i, true);
    this.rss = true;
    return used;
  }

  /**
   * VIRTIO_NET_CTRL_MQ_HASH_CONFIG (struct virtio_net_hash_config): hash types and key for
   * hash reporting without RSS. Returns false (nothing changed) for a malformed or unsupported
   * configuration, reserved fields not zero included.
   */
  setHash(data: Uint8Array): boolean {
    if (data.length < 13) return false;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const types = dv.getUint32(0, true);
    const keyLength = data[12];
    if (keyLength > RSS_MAX_KEY_SIZE || data.length !== 13 + keyLength) return false;
    if (types & ~SUPPORTED_HASH_TYPES) return false;
    for (let i = 4; i < 12; i++) if (data[i] !== 0) return false;
    this.hasher.hashTypes = types;
    this.hasher.toeplitz.setKey(data.subarray(13));
    this.rss = false;
    return true;
  }
}
