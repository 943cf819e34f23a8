/**
 * The driver side of RSS and hash configuration: struct virtio_net_rss_config and struct
 * virtio_net_hash_config built from a {@link RssConfig}, after the driver requirements of
 * spec 5.1.6.5.7.1 are checked.
 */
import { NetDriverError } from '../errors.js';

/** RSS parameters (VIRTIO_NET_CTRL_MQ_RSS_CONFIG). */
export interface RssConfig {
  /** VIRTIO_NET_HASH_TYPE_* bits to enable; only types in supported_hash_types. */
  readonly hashTypes: number;
  /** The Toeplitz key, at most rss_max_key_size bytes. */
  readonly key: Uint8Array;
  /** Receive queue pair (0 = receiveq1) per entry; a power-of-two count up to rss_max_indirection_table_length. */
  readonly indirectionTable: readonly number[];
  /** Queue pair of packets without a hash. Default 0. */
  readonly unclassifiedQueue?: number;
  /** Transmit queues the driver may use (max_tx_vq). Default: the highest queue pair the table names, plus 1. */
  readonly maxTxVq?: number;
}

/** What the device reported in its configuration space. */
export interface RssLimits {
  readonly maxKeySize: number;
  readonly maxIndirectionTableLength: number;
  readonly supportedHashTypes: number;
  /** supported_tunnel_types, bits this specification does not define ignored (net.drv.47). */
  readonly supportedTunnelTypes: number;
  /** Receive queue pairs the driver enabled (receiveq1 .. receiveqN). */
  readonly pairs: number;
}

const bad = (id: string, why: string): never => {
  throw new NetDriverError('not-allowed', `[${id}] ${why}`);
};

function checkCommon(hashTypes: number, key: Uint8Array, l: RssLimits): void {
  // [net.drv.64]
  if (!Number.isInteger(hashTypes) || hashTypes < 0 || (hashTypes & ~l.supportedHashTypes) !== 0) {
    bad('net.drv.64', `hash types 0x${hashTypes.toString(16)} are not all in supported_hash_types 0x${l.supportedHashTypes.toString(16)}`);
  }
  if (key.length > l.maxKeySize) throw new NetDriverError('not-allowed', `key of ${key.length} bytes exceeds rss_max_key_size ${l.maxKeySize}`);
}

/**
 * struct virtio_net_rss_config for `c`.
 * @throws NetDriverError 'not-allowed' for a configuration breaking net.drv.61..64 or the key size
 */
export function encodeRssConfig(c: RssConfig, l: RssLimits): Uint8Array {
  checkCommon(c.hashTypes, c.key, l);
  const n = c.indirectionTable.length;
  // [net.drv.62, 63]
  if (n === 0 || (n & (n - 1)) !== 0) bad('net.drv.62', `indirection table of ${n} entries is not a power of two`);
  if (n - 1 >= l.maxIndirectionTableLength) bad('net.drv.63', `indirection_table_mask ${n - 1} is not below rss_max_indirection_table_length ${l.maxIndirectionTableLength}`);
  const unclassified = c.unclassifiedQueue ?? 0;
  // [net.drv.61]: only enabled receive queues.
  for (const q of [unclassified, ...c.indirectionTable]) {
    if (!Number.isInteger(q) || q < 0 || q >= l.pairs) bad('net.drv.61', `receive queue pair ${q} is not enabled (1..${l.pairs} configured)`);
  }
  const maxTx = c.maxTxVq ?? Math.max(...c.indirectionTable) + 1;
  if (!Number.isInteger(maxTx) || maxTx < 1 || maxTx > l.pairs) throw new NetDriverError('not-allowed', `max_tx_vq ${maxTx} not in 1..${l.pairs}`);
  const data = new Uint8Array(11 + 2 * n + c.key.length);
  const dv = new DataView(data.buffer);
  dv.setUint32(0, c.hashTypes, true);
  dv.setUint16(4, n - 1, true);
  dv.setUint16(6, unclassified, true);
  c.indirectionTable.forEach((q, i) => dv.setUint16(8 + 2 * i, q, true));
  dv.setUint16(8 + 2 * n, maxTx, true);
  data[10 + 2 * n] = c.key.length;
  data.set(c.key, 11 + 2 * n);
  return data;
}

/**
 * struct virtio_net_hash_config (hash_types, zeroed reserved, key) for hash reporting.
 * @throws NetDriverError 'not-allowed' for unsupported hash types (net.drv.64) or a key too long
 */
export function encodeHashConfig(hashTypes: number, key: Uint8Array, l: RssLimits): Uint8Array {
  checkCommon(hashTypes, key, l);
  const data = new Uint8Array(13 + key.length);
  new DataView(data.buffer).setUint32(0, hashTypes, true);
  data[12] = key.length;
  data.set(key, 13);
  return data;
}
