/**
 * The virtio network device (spec 5.1), device side: Device ID 1, queues receiveq1,
 * transmitq1 ... receiveqN, transmitqN (N = max_virtqueue_pairs) and, with
 * VIRTIO_NET_F_CTRL_VQ, controlq (index 2N with VIRTIO_NET_F_MQ negotiated, else 2).
 * Frames go to and from a {@link NetBackend}; see rx.ts, tx.ts and ctrl/ for the paths, rss/
 * for hashing and steering, coalesce/ for notification coalescing, stats/ for the counters.
 */
import { VIRTIO_ID_NET, type ActivateContext, type DeviceHost, type VirtioDevice } from '@virtio/core';
import type { DescriptorChain } from '@virtio/ring';
import type { NetBackend } from './backend.js';
import { Notifier } from './coalesce/notifier.js';
import { systemTimer, type CoalesceTimer } from './coalesce/timer.js';
import { NET_CONFIG_SIZE, NetConfig } from './config.js';
import { executeCtrl, type CtrlTarget } from './ctrl/execute.js';
import { CtrlReply } from './ctrl/reply.js';
import { RxFilter } from './filter.js';
import { negotiated, type Negotiated } from './negotiated.js';
import { featureRequirementsMet, resolveOffer, type NetDeviceOptions, type NetOffer } from './offer.js';
import { receiveQueueIndex, VIRTIO_NET_S_ANNOUNCE, VIRTIO_NET_S_LINK_UP } from './protocol.js';
import { RxHash } from './rss/state.js';
import { RxPath } from './rx.js';
import { DeviceCounters, NOTIFICATIONS } from './stats/counters.js';
import { newStats, type NetStats } from './stats/frames.js';
import { TxPath } from './tx.js';

/** One activation's live state: dropped as a whole at reset. */
interface Live {
  readonly ctx: ActivateContext;
  readonly neg: Negotiated;
  readonly rx: RxPath;
  readonly tx: TxPath;
  /** Index of controlq, or -1 without VIRTIO_NET_F_CTRL_VQ. */
  readonly ctrlIndex: number;
  readonly notifier: Notifier;
  readonly counters: DeviceCounters;
  readonly ctrl: CtrlTarget;
}

/**
 * The network device. Construct it with a {@link NetBackend} (it takes the backend's receive
 * side: one backend per device) and hand it to a transport. Frames flow once the driver sets
 * DRIVER_OK; before that and after a reset the backend stays paused.
 * @throws RangeError from the constructor for options outside the spec's ranges.
 */
export class NetDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly deviceFeatures: bigint;
  readonly numQueues: number;
  readonly configSize = NET_CONFIG_SIZE;
  /** Frame counters since creation. */
  readonly stats: NetStats = newStats();
  readonly #offer: NetOffer;
  readonly #backend: NetBackend;
  readonly #config: NetConfig;
  readonly #filter = new RxFilter();
  readonly #timer: CoalesceTimer;
  #host: DeviceHost | undefined;
  #live: Live | undefined;

  /**
   * @throws RangeError for options outside the spec's ranges (MTU 68..65535, 1..0x8000 queue
   * pairs, a 6-byte MAC).
   */
  constructor(opts: NetDeviceOptions) {
    this.#offer = resolveOffer(opts);
    this.#backend = opts.backend;
    this.deviceFeatures = this.#offer.features;
    this.numQueues = 2 * this.#offer.queuePairs + (this.#offer.controlQueue ? 1 : 0);
    this.#timer = opts.coalesceTimer ?? systemTimer;
    const o = this.#offer;
    this.#config = new NetConfig(o.mac, o.queuePairs, o.mtu, o.speed, o.duplex, o.hash);
    this.#config.status = (opts.linkUp ?? true) ? VIRTIO_NET_S_LINK_UP : 0;
    // Paused until the driver is live: a NIC without a driver takes no frames.
    this.#backend.start((frame, header, more) => this.#receive(frame, header, more === true));
    this.#backend.pause();
  }

  /** The current MAC address (changed by VIRTIO_NET_CTRL_MAC_ADDR_SET), a copy. */
  get mac(): Uint8Array {
    return this.#config.mac.slice();
  }

  /** Whether the link is up (VIRTIO_NET_S_LINK_UP). */
  get linkUp(): boolean {
    return (this.#config.status & VIRTIO_NET_S_LINK_UP) !== 0;
  }

  /** Frames accepted from the backend and waiting for the driver to post receive buffers. */
  get pendingFrames(): number {
    return this.#live?.rx.pendingFrames ?? 0;
  }

  /**
   * Sets the link state: status changes and, when it changed, a configuration change
   * notification (VIRTIO_NET_F_STATUS). While down, received frames are dropped (counted in
   * stats.rxFiltered), as on a wire with no carrier.
   */
  setLink(up: boolean): void {
    const status = up ? this.#config.status | VIRTIO_NET_S_LINK_UP : this.#config.status & ~VIRTIO_NET_S_LINK_UP;
    if (status === this.#config.status) return;
    this.#config.status = status;
    this.#host?.configChanged();
  }

  /**
   * Asks the driver to announce itself (after a migration): sets VIRTIO_NET_S_ANNOUNCE and sends a
   * configuration change notification. Returns false (nothing done) unless the driver
   * negotiated VIRTIO_NET_F_GUEST_ANNOUNCE.
   */
  announce(): boolean {
    if (!this.#live?.neg.guestAnnounce) return false;
    this.#config.status |= VIRTIO_NET_S_ANNOUNCE;
    this.#host?.configChanged();
    return true;
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < this.numQueues ? this.#offer.queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  /** Every field is read-only for a VIRTIO 1.x driver: writes are ignored. */
  writeConfig(): void {}

  validateFeatures(features: bigint): boolean {
    return featureRequirementsMet(features);
  }

  attach(host: DeviceHost): void {
    this.#host = host;
  }

  activate(ctx: ActivateContext): void {
    const neg = negotiated(ctx.features);
    // Spec 5.1.2: N is max_virtqueue_pairs with VIRTIO_NET_F_MQ or VIRTIO_NET_F_RSS, else 1.
    const pairs = neg.mq || neg.rss ? this.#offer.queuePairs : 1;
    const rxIndexes = Array.from({ length: pairs }, (_, p) => receiveQueueIndex(p));
    this.#filter.reset();
    this.#filter.vlanFiltering = neg.ctrlVlan;
    // [net.drv.3]: without VIRTIO_NET_F_STATUS the driver assumes the link up; the device agrees.
    if (!neg.status) this.#config.status |= VIRTIO_NET_S_LINK_UP;
    const flow = { pause: () => this.#backend.pause(), resume: () => this.#backend.resume() };
    // Coalescing parameters, hash configuration and counters start from 0 at every activation ([net.dev.84]).
    const counters = new DeviceCounters(2 * pairs);
    const notifier = new Notifier(ctx.interrupt, this.#timer, counters);
    const hash = new RxHash();
    const rx = new RxPath(ctx, neg, this.#config, this.#filter, flow, this.stats, rxIndexes, this.#offer.mtu, {
      hash,
      notifier,
      counters,
      checksumsValidated: this.#backend.checksumsValidated === true,
    });
    const tx = new TxPath(ctx, neg, this.#backend, this.stats, notifier, counters);
    const ctrlIndex = neg.ctrlVq ? 2 * pairs : -1;
    const ctrl: CtrlTarget = {
      neg,
      config: this.#config,
      filter: this.#filter,
      maxPairs: this.#offer.queuePairs,
      hash,
      counters,
      notifier,
      reply: new CtrlReply(),
      notfCoal: neg.notfCoal,
      vqNotfCoal: neg.vqNotfCoal,
      enabled: (vq) => vq < 2 * pairs && ctx.queues[vq] !== undefined,
      setActivePairs: (n) => {
        rx.activePairs = n;
      },
      setGuestOffloads: (o) => {
        try {
          this.#backend.setOffloads?.(o);
        } catch {
          return false;
        }
        rx.guestOffloads = o;
        return true;
      },
    };
    this.#live = { ctx, neg, rx, tx, ctrlIndex, notifier, counters, ctrl };
    try {
      this.#backend.setOffloads?.(neg.guest);
    } catch (err) {
      // The backend cannot carry what was negotiated (e.g. TUNSETOFFLOAD refused).
      this.#retire(this.#live);
      ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    for (let p = 0; p < pairs; p++) tx.drain(2 * p + 1);
    if (ctrlIndex >= 0) this.#control(ctrlIndex);
    if (this.#live?.ctx === ctx) this.#backend.resume();
  }

  queueNotify(queueIndex: number): void {
    const live = this.#live;
    if (!live) return;
    if (queueIndex === live.ctrlIndex) this.#control(queueIndex);
    else if (queueIndex < 2 * live.rx.pairCount) {
      live.counters.add(queueIndex, NOTIFICATIONS, 1);
      if (queueIndex % 2 === 0) live.rx.buffersPosted(queueIndex / 2);
      else live.tx.drain(queueIndex);
    }
  }

  /**
   * Queue `queueIndex` stopped (disabled by the driver): chains held from it are forgotten, its
   * coalescing parameters go back to those of TX_SET / RX_SET ([net.dev.80, 81]).
   */
  resetQueue(queueIndex: number): void {
    const live = this.#live;
    if (!live || queueIndex === live.ctrlIndex || queueIndex >= 2 * live.rx.pairCount) return;
    live.notifier.restart(queueIndex);
    if (queueIndex % 2 === 0) live.rx.queueStopped(queueIndex / 2);
  }

  /** A queue the driver enabled again after DRIVER_OK: served like a notification. */
  enableQueue(queueIndex: number): void {
    const live = this.#live;
    if (!live) return;
    if (queueIndex !== live.ctrlIndex && queueIndex < 2 * live.rx.pairCount && queueIndex % 2 === 0) live.rx.queueStarted(queueIndex / 2);
    else this.queueNotify(queueIndex);
  }

  reset(): void {
    const live = this.#live;
    this.#live = undefined;
    if (live) this.#retire(live);
    this.#backend.pause();
    this.#filter.reset();
    this.#config.status &= ~VIRTIO_NET_S_ANNOUNCE;
    this.#config.setMac(this.#offer.mac);
  }

  #receive(frame: Uint8Array, header: Uint8Array | null, more: boolean): void {
    const live = this.#live;
    if (!live) {
      this.stats.rxErrors++;
      return;
    }
    live.rx.receive(frame, header, more);
  }

  /** The activation ends: no guest memory access, no timer, from here on. */
  #retire(live: Live): void {
    live.rx.retire();
    live.tx.retire();
    live.notifier.retire();
  }

  /** Executes every available control command, then notifies once. */
  #control(index: number): void {
    const live = this.#live;
    const q = live?.ctx.queues[index];
    if (!live || !q) return;
    const target = live.ctrl;
    let changedPairs = false;
    try {
      let pushed = false;
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) {
          const before = live.rx.activePairs;
          q.push(chain, executeCtrl(live.ctx.memory, chain, target));
          changedPairs ||= before !== live.rx.activePairs;
          pushed = true;
        }
        if (!q.enableNotifications()) break;
      }
      if (pushed && q.needsNotification()) live.ctx.interrupt.usedBuffer(index);
    } catch (err) {
      this.#retire(live);
      live.ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (changedPairs) live.rx.retry();
  }
}
