/**
 * The virtio block device, device side (spec 5.2). Requests run concurrently: every chain
 * popped starts its backend work at once and completes when that work finishes, in any order.
 * Completions are gathered in a microtask, then written back (status byte, used ring) and one
 * notification decision is made per queue per batch.
 */
import {
  hasFeature,
  VIRTIO_ID_BLOCK,
  type ActivateContext,
  type DeviceHost,
  type VirtioDevice,
} from '@virtio/core';
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';
import type { BlockBackend } from './backend.js';
import { BlkConfigOffset, BlkConfigSpace, VIRTIO_BLK_CONFIG_SIZE } from './config.js';
import { BlkFramingError } from './errors.js';
import { execute, writtenLength, type ExecState, type RangeCommand } from './execute.js';
import { InFlight } from './in-flight.js';
import { resolveOffer, type BlkDeviceOptions, type BlkOffer } from './offer.js';
import {
  VIRTIO_BLK_F_CONFIG_WCE,
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_LIFETIME,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SECURE_ERASE,
  VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_BLK_F_ZONED,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_SECTOR_SIZE,
  VIRTIO_BLK_Z_HM,
} from './protocol.js';
import { readFrame } from './request.js';
import { ZoneTable } from './zones.js';

/** One finished request waiting for the next batch. */
interface Completion {
  readonly ctx: ActivateContext;
  readonly q: DeviceQueue;
  readonly qi: number;
  readonly chain: DescriptorChain;
  /** -1: no status byte to write. */
  readonly statusAddr: number;
  readonly status: number;
  readonly written: number;
}

export class BlkDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly deviceFeatures: bigint;
  readonly numQueues: number;
  readonly configSize = VIRTIO_BLK_CONFIG_SIZE;
  readonly backend: BlockBackend;

  readonly #offer: BlkOffer;
  readonly #config = new BlkConfigSpace();
  readonly #idBytes = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  #host: DeviceHost | undefined;
  #ctx: ActivateContext | undefined;
  /** The live queue of each index (undefined after a queue reset). */
  #queues: (DeviceQueue | undefined)[] = [];
  #state: ExecState | undefined;
  #negotiated = 0n;
  #done: Completion[] = [];
  #spare: Completion[] = [];
  #batchScheduled = false;
  /** The zones of a zoned device (state kept across resets: it is the storage's). */
  readonly #zones: ZoneTable | undefined;
  readonly #touched: Uint8Array;
  readonly #inFlight: InFlight;
  readonly #flushBatch = () => this.#completeBatch();

  /** @throws RangeError for options outside the configuration fields' ranges */
  constructor(opts: BlkDeviceOptions) {
    this.backend = opts.backend;
    this.#offer = resolveOffer(opts);
    this.deviceFeatures = this.#offer.features;
    this.numQueues = this.#offer.numQueues;
    this.#touched = new Uint8Array(this.numQueues);
    this.#inFlight = new InFlight(this.numQueues);
    this.#config.load(this.#offer.config);
    const z = this.#offer.zoned;
    this.#zones = z && opts.zoned ? new ZoneTable(this.#offer.config.capacity, z, opts.zoned) : undefined;
    for (let i = 0; i < this.#offer.id.length && i < VIRTIO_BLK_ID_BYTES; i++) this.#idBytes[i] = this.#offer.id.charCodeAt(i) & 0x7f;
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < this.numQueues ? this.#offer.queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  /** Only `writeback` is writable, and only with VIRTIO_BLK_F_CONFIG_WCE negotiated (0 or 1). */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    if (offset !== BlkConfigOffset.writeback || width !== 1) return;
    if (!hasFeature(this.#negotiated, VIRTIO_BLK_F_CONFIG_WCE) || (value !== 0 && value !== 1)) return;
    this.#config.writeback = value;
    this.#refreshState();
  }

  /** The cache mode in force: true when completed writes may still be volatile until a FLUSH. */
  get writebackCache(): boolean {
    return !(this.#state?.writeThrough ?? this.#writeThrough(this.#negotiated));
  }

  /** The zones of a zoned device (undefined otherwise). */
  get zones(): ZoneTable | undefined {
    return this.#zones;
  }

  validateFeatures(features: bigint): boolean {
    const zoned = this.#offer.zoned;
    if (hasFeature(features, VIRTIO_BLK_F_ZONED) && !zoned) return false;
    // A host-managed device cannot work for a driver that refuses VIRTIO_BLK_F_ZONED.
    if (zoned?.model === VIRTIO_BLK_Z_HM && !hasFeature(features, VIRTIO_BLK_F_ZONED)) return false;
    this.#negotiate(features);
    return true;
  }

  attach(host: DeviceHost): void {
    this.#host = host;
  }

  activate(ctx: ActivateContext): void {
    if (ctx.features !== this.#negotiated) this.#negotiate(ctx.features);
    this.#ctx = ctx;
    this.#queues = ctx.queues.slice();
    this.#refreshState();
    for (let i = 0; i < this.numQueues; i++) this.#drain(i);
  }

  queueNotify(queueIndex: number): void {
    this.#drain(queueIndex);
  }

  enableQueue(queueIndex: number, queue: DeviceQueue): void {
    if (!this.#ctx || queueIndex < 0 || queueIndex >= this.numQueues) return;
    this.#queues[queueIndex] = queue;
    this.#drain(queueIndex);
  }

  /**
   * Queue reset: its in-flight requests complete into nothing (the completion sees the queue
   * is gone). @returns a promise settling when every backend call of that queue issued before
   * the reset finished (until then a read may still land in its guest buffers), or nothing
   * when none is in flight
   */
  resetQueue(queueIndex: number): void | Promise<void> {
    this.#queues[queueIndex] = undefined;
    return this.#inFlight.queue(queueIndex) > 0 ? this.#inFlight.whenQueueIdle(queueIndex) : undefined;
  }

  /**
   * Device reset: completions from before it are dropped. @returns a promise settling when
   * every backend call issued before the reset finished, or nothing when none is in flight;
   * the transport presents the reset complete (status 0) only then ([basic.dev.7])
   */
  reset(): void | Promise<void> {
    this.#ctx = undefined;
    this.#queues = [];
    this.#state = undefined;
    this.#done.length = 0;
    this.#negotiated = 0n;
    this.#config.writeback = this.#offer.writeback;
    this.#config.setZoned(this.#offer.zoned);
    return this.#inFlight.total > 0 ? this.#inFlight.whenIdle() : undefined;
  }

  /**
   * Re-reads the backend's size into `capacity` and sends a configuration change notification
   * (spec 5.2.6.4: the device may change `capacity` during operation).
   */
  resize(): void {
    this.#config.setCapacity(Math.floor(this.backend.size / VIRTIO_BLK_SECTOR_SIZE));
    this.#refreshState();
    this.#host?.configChanged();
  }

  /** Number of requests whose backend work has not finished (including those from before a reset). */
  get inFlight(): number {
    return this.#inFlight.total;
  }

  /** Resolves when no backend work is in flight (what reset() waits for). */
  whenIdle(): Promise<void> {
    return this.#inFlight.whenIdle();
  }

  #negotiate(features: bigint): void {
    this.#negotiated = features;
    // [blk.dev.2] CONFIG_WCE without FLUSH: writethrough; otherwise the configured mode after reset.
    const wce = hasFeature(features, VIRTIO_BLK_F_CONFIG_WCE);
    this.#config.writeback = wce && !hasFeature(features, VIRTIO_BLK_F_FLUSH) ? 0 : this.#offer.writeback;
    // [blk.dev.6] a host-aware device whose driver refused ZONED goes on as a plain disk, zoned fields 0.
    this.#config.setZoned(hasFeature(features, VIRTIO_BLK_F_ZONED) ? this.#offer.zoned : undefined);
  }

  /**
   * Writes are stable at completion (spec 5.2.6.4) when FLUSH was not negotiated (case 1) or
   * CONFIG_WCE was and `writeback` is 0 (case 2).
   */
  #writeThrough(f: bigint): boolean {
    if (!hasFeature(f, VIRTIO_BLK_F_FLUSH)) return true;
    return hasFeature(f, VIRTIO_BLK_F_CONFIG_WCE) && this.#config.writeback === 0;
  }

  #refreshState(): void {
    const ctx = this.#ctx;
    if (!ctx) return;
    const f = this.#negotiated;
    const c = this.#offer.config;
    const align = c.blkSize / VIRTIO_BLK_SECTOR_SIZE;
    const cmd = (bit: number, maxSectors: number, maxSegments: number): RangeCommand | null =>
      hasFeature(f, bit) ? { maxSectors, maxSegments, alignment: align } : null;
    this.#state = {
      memory: ctx.memory,
      backend: this.backend,
      capacity: this.#config.read(BlkConfigOffset.capacity, 4) + this.#config.read(BlkConfigOffset.capacity + 4, 4) * 2 ** 32,
      readOnly: hasFeature(this.deviceFeatures, VIRTIO_BLK_F_RO),
      writeThrough: this.#writeThrough(f),
      discard: cmd(VIRTIO_BLK_F_DISCARD, c.maxDiscardSectors, c.maxDiscardSeg),
      writeZeroes: cmd(VIRTIO_BLK_F_WRITE_ZEROES, c.maxWriteZeroesSectors, c.maxWriteZeroesSeg),
      secureErase: cmd(VIRTIO_BLK_F_SECURE_ERASE, c.maxSecureEraseSectors, c.maxSecureEraseSeg),
      lifetime: hasFeature(f, VIRTIO_BLK_F_LIFETIME),
      idBytes: this.#idBytes,
      zones: hasFeature(f, VIRTIO_BLK_F_ZONED) ? (this.#zones ?? null) : null,
    };
  }

  /** Pops every available chain of queue `qi` and starts it; re-checks after re-enabling notifications. */
  #drain(qi: number): void {
    const ctx = this.#ctx;
    const q = this.#queues[qi];
    if (!ctx || !q) return;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) this.#start(ctx, qi, q, chain);
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      ctx.needsReset(err as Error);
    }
  }

  #start(ctx: ActivateContext, qi: number, q: DeviceQueue, chain: DescriptorChain): void {
    const state = this.#state;
    if (!state) return;
    let frame;
    try {
      frame = readFrame(ctx.memory, chain);
      if (!frame) {
        // No device-writable byte: no status byte to answer in. Give the buffers back, then reset.
        this.#finish(ctx, q, qi, chain, -1, 0, 0);
        ctx.needsReset(new BlkFramingError(chain.id, 'no device-writable status byte'));
        return;
      }
      const outcome = execute(state, chain, frame);
      if (typeof outcome === 'number') {
        this.#finish(ctx, q, qi, chain, frame.statusAddr, outcome, writtenLength(frame, outcome));
        return;
      }
      const f = frame;
      this.#inFlight.started(qi);
      outcome.then(
        (status) => {
          this.#inFlight.finished(qi);
          this.#finish(ctx, q, qi, chain, f.statusAddr, status, writtenLength(f, status));
        },
        () => {
          this.#inFlight.finished(qi);
          this.#finish(ctx, q, qi, chain, f.statusAddr, VIRTIO_BLK_S_IOERR, writtenLength(f, VIRTIO_BLK_S_IOERR));
        },
      );
    } catch (err) {
      ctx.needsReset(err as Error);
    }
  }

  #finish(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain, statusAddr: number, status: number, written: number): void {
    // A completion from before a reset (or a queue reset) completes into nothing.
    if (ctx !== this.#ctx || this.#queues[qi] !== q) return;
    this.#done.push({ ctx, q, qi, chain, statusAddr, status, written });
    if (!this.#batchScheduled) {
      this.#batchScheduled = true;
      queueMicrotask(this.#flushBatch);
    }
  }

  /** Writes the batch's status bytes, pushes its chains, then one notification decision per queue. */
  #completeBatch(): void {
    this.#batchScheduled = false;
    const done = this.#done;
    this.#done = this.#spare;
    this.#spare = done;
    const ctx = this.#ctx;
    const touched = this.#touched;
    try {
      if (!ctx) return;
      for (let i = 0; i < done.length; i++) {
        const c = done[i];
        if (c.ctx !== ctx || this.#queues[c.qi] !== c.q) continue;
        if (c.statusAddr >= 0) ctx.memory.writeU8(c.statusAddr, c.status);
        c.q.push(c.chain, c.written);
        touched[c.qi] = 1;
      }
      for (let qi = 0; qi < touched.length; qi++) {
        if (touched[qi] === 0) continue;
        touched[qi] = 0;
        const q = this.#queues[qi];
        if (q?.needsNotification()) ctx.interrupt.usedBuffer(qi);
      }
    } catch (err) {
      touched.fill(0);
      ctx?.needsReset(err as Error);
    } finally {
      done.length = 0;
    }
  }
}
