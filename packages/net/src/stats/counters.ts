/**
 * The per-virtqueue counters of VIRTIO_NET_F_DEVICE_STATS (spec 5.1.6.5.9): le64 values kept
 * as two 32-bit words each, so adding is allocation-free and wraps around to zero past
 * 2^64 - 1 as the spec asks ([net.dev.89]).
 */

/** Counters of a receiveq (struct virtio_net_stats_rx_basic) and a transmitq (struct virtio_net_stats_tx_basic), in reply order. */
export const NOTIFICATIONS = 0;
export const PACKETS = 1;
export const BYTES = 2;
export const INTERRUPTS = 3;
export const DROPS = 4;
/** rx_drop_overruns on a receiveq, tx_drop_malformed on a transmitq. */
export const DROPS_DETAIL = 5;
/** The basic counters of a queue. */
export const BASIC_COUNTERS = 6;
/** struct virtio_net_stats_rx_csum, in reply order. */
export const RX_CSUM_VALID = 6;
export const RX_NEEDS_CSUM = 7;
export const RX_CSUM_NONE = 8;
export const RX_CSUM_BAD = 9;
/** struct virtio_net_stats_rx_gso, in reply order. */
export const RX_GSO_PACKETS = 10;
export const RX_GSO_BYTES = 11;
/** struct virtio_net_stats_tx_csum, in reply order. */
export const TX_CSUM_NONE = 6;
export const TX_NEEDS_CSUM = 7;
/** struct virtio_net_stats_tx_gso, in reply order. */
export const TX_GSO_PACKETS = 8;
export const TX_GSO_BYTES = 9;
export const TX_GSO_SEGMENTS = 10;
export const TX_GSO_SEGMENTS_BYTES = 11;
/** Counters of one receiveq or transmitq (basic, checksum and GSO statistics). */
export const QUEUE_COUNTERS = 14;
/** Counters of the controlq (struct virtio_net_stats_cvq): command_num, ok_num. */
export const CVQ_COMMANDS = 0;
export const CVQ_OK = 1;
export const CVQ_COUNTERS = 2;

const TWO_32 = 0x1_0000_0000;

export class DeviceCounters {
  /** Receive and transmit queues counted (2N). */
  readonly queues: number;
  readonly #words: Uint32Array;

  /** Counters for `queues` receive / transmit queues and the controlq. */
  constructor(queues: number) {
    this.queues = queues;
    this.#words = new Uint32Array(2 * (queues * QUEUE_COUNTERS + CVQ_COUNTERS));
  }

  /** Adds `n` (a non-negative integer below 2^53) to counter `field` of queue `vq`. */
  add(vq: number, field: number, n: number): void {
    this.#add(vq * QUEUE_COUNTERS + field, n);
  }

  /** Adds `n` to controlq counter `field` (CVQ_COMMANDS, CVQ_OK). */
  addCvq(field: number, n: number): void {
    this.#add(this.queues * QUEUE_COUNTERS + field, n);
  }

  #add(index: number, n: number): void {
    const w = this.#words;
    const lo = w[2 * index] + (n % TWO_32);
    w[2 * index] = lo;
    w[2 * index + 1] += Math.floor(n / TWO_32) + (lo >= TWO_32 ? 1 : 0);
  }

  /** Writes `count` counters of queue `vq` from `field` as le64 into `out` at `offset`. */
  write(vq: number, field: number, count: number, out: DataView, offset: number): void {
    this.#write(vq * QUEUE_COUNTERS + field, count, out, offset);
  }

  /**
   * Writes the controlq counters as le64 into `out` at `offset`. The command being executed
   * is in command_num already and counted in ok_num here: it succeeds, since it replies.
   */
  writeCvq(out: DataView, offset: number): void {
    this.#write(this.queues * QUEUE_COUNTERS, CVQ_COUNTERS, out, offset);
    const lo = out.getUint32(offset + 8, true) + 1;
    out.setUint32(offset + 8, lo >>> 0, true);
    if (lo > 0xffffffff) out.setUint32(offset + 12, (out.getUint32(offset + 12, true) + 1) >>> 0, true);
  }

  #write(index: number, count: number, out: DataView, offset: number): void {
    const w = this.#words;
    for (let i = 0; i < count; i++) {
      out.setUint32(offset + 8 * i, w[2 * (index + i)], true);
      out.setUint32(offset + 8 * i + 4, w[2 * (index + i) + 1], true);
    }
  }
}
