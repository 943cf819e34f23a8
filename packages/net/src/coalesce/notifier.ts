/**
 * Used buffer notifications of the receive and transmit queues under notification coalescing
 * (spec 5.1.6.5.8, VIRTIO_NET_F_NOTF_COAL / VIRTIO_NET_F_VQ_NOTF_COAL). With max_packets and
 * max_usecs both non-zero, a queue's notification waits until max_packets packets were
 * published since the first one, or max_usecs elapsed, whichever comes first; otherwise every
 * batch is notified at once. A notification is only sent when the ring asked for one in that
 * window (notification suppression, [net.dev.83]).
 */
import type { InterruptSink } from '@virtio/core';
import { DeviceCounters, INTERRUPTS } from '../stats/counters.js';
import type { CoalesceTimer } from './timer.js';

/** Coalescing parameters (struct virtio_net_ctrl_coal). */
export interface CoalesceParams {
  readonly maxPackets: number;
  readonly maxUsecs: number;
}

const ZERO: CoalesceParams = { maxPackets: 0, maxUsecs: 0 };

class QueueCoalesce {
  maxPackets = 0;
  maxUsecs = 0;
  /** Packets published since the window opened. */
  count = 0;
  /** The ring asked for a notification within the window. */
  owed = false;
  cancel: (() => void) | null = null;
  readonly expire: () => void;
  constructor(expire: () => void) {
    this.expire = expire;
  }
  get active(): boolean {
    return this.maxPackets !== 0 && this.maxUsecs !== 0;
  }
}

export class Notifier {
  /** Parameters last set by VIRTIO_NET_CTRL_NOTF_COAL_TX_SET / _RX_SET (0 until then, [net.dev.84]). */
  tx: CoalesceParams = ZERO;
  rx: CoalesceParams = ZERO;
  readonly #interrupt: InterruptSink;
  readonly #timer: CoalesceTimer;
  readonly #counters: DeviceCounters;
  readonly #queues: QueueCoalesce[];
  #retired = false;

  /** Receive and transmit queues (2N). */
  get queues(): number {
    return this.#queues.length;
  }

  /** For receiveq/transmitq indexes 0 .. counters.queues - 1. */
  constructor(interrupt: InterruptSink, timer: CoalesceTimer, counters: DeviceCounters) {
    this.#interrupt = interrupt;
    this.#timer = timer;
    this.#counters = counters;
    this.#queues = Array.from({ length: counters.queues }, (_, vq) => new QueueCoalesce(() => this.#expire(vq)));
  }

  /**
   * `packets` used buffers of queue `vq` were published; `wanted` is the ring's answer
   * (needsNotification) for that batch.
   */
  published(vq: number, packets: number, wanted: boolean): void {
    const c = this.#queues[vq];
    if (!c.active) {
      if (wanted) this.#notify(vq);
      return;
    }
    c.owed ||= wanted;
    c.count += packets;
    if (c.count >= c.maxPackets) this.#fire(vq, c);
    else if (c.cancel === null) c.cancel = this.#timer.start(c.maxUsecs, c.expire);
  }

  /** The parameters of queue `vq` (0 .. 2N-1). */
  get(vq: number): CoalesceParams {
    const c = this.#queues[vq];
    return { maxPackets: c.maxPackets, maxUsecs: c.maxUsecs };
  }

  /**
   * Sets the parameters of queue `vq`; a window whose new conditions are already met is
   * notified at once (spec "Notifications When Coalescing Parameters Change").
   */
  set(vq: number, p: CoalesceParams): void {
    const c = this.#queues[vq];
    c.maxPackets = p.maxPackets >>> 0;
    c.maxUsecs = p.maxUsecs >>> 0;
    if (c.count > 0 && (!c.active || c.count >= c.maxPackets)) this.#fire(vq, c);
  }

  /** Queue `vq` was disabled: its window is dropped; re-enabled, it takes the TX_SET / RX_SET parameters ([net.dev.80, 81]). */
  restart(vq: number): void {
    const c = this.#queues[vq];
    c.cancel?.();
    c.cancel = null;
    c.count = 0;
    c.owed = false;
    this.set(vq, vq % 2 === 0 ? this.rx : this.tx);
  }

  /** Device reset: no timer fires any more. */
  retire(): void {
    this.#retired = true;
    for (const c of this.#queues) {
      c.cancel?.();
      c.cancel = null;
    }
  }

  #expire(vq: number): void {
    const c = this.#queues[vq];
    c.cancel = null;
    if (!this.#retired) this.#fire(vq, c);
  }

  #fire(vq: number, c: QueueCoalesce): void {
    c.cancel?.();
    c.cancel = null;
    c.count = 0;
    if (c.owed) {
      c.owed = false;
      this.#notify(vq);
    }
  }

  #notify(vq: number): void {
    this.#counters.add(vq, INTERRUPTS, 1);
    this.#interrupt.usedBuffer(vq);
  }
}
