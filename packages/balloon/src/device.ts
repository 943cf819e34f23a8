/**
 * The traditional memory balloon, device side (spec 5.5): the host sets num_pages, the driver
 * inflates (inflateq) and deflates (deflateq) with arrays of 4096-byte page frame numbers and
 * writes actual; optional statsq (memory statistics, device-driven), free_page_vq (free page
 * hinting under a command ID), reporting_vq (free page reporting) and poison_val.
 */
import {
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  type ActivateContext,
  type DeviceHost,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import type { BalloonBackend } from './backends/backend.js';
import { BalloonConfig } from './config.js';
import { BalloonRequestError } from './errors.js';
import { balloonQueueCount, balloonQueueIndex } from './queues.js';
import {
  VIRTIO_BALLOON_CMD_ID_DONE,
  VIRTIO_BALLOON_CMD_ID_STOP,
  VIRTIO_BALLOON_DEFLATEQ,
  VIRTIO_BALLOON_DEVICE_ID,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_PAGE_POISON,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_FREE_PAGE_VQ,
  VIRTIO_BALLOON_INFLATEQ,
  VIRTIO_BALLOON_NUM_QUEUES,
  VIRTIO_BALLOON_PAGE_SIZE,
  VIRTIO_BALLOON_PFN_SHIFT,
  VIRTIO_BALLOON_REPORTING_VQ,
  VIRTIO_BALLOON_S_NR,
  VIRTIO_BALLOON_STAT_SIZE,
  VIRTIO_BALLOON_STATSQ,
  type BalloonStats,
  type PageRange,
} from './protocol.js';

export interface BalloonDeviceOptions {
  /** Host hooks for released and reclaimed pages, reports, hints, statistics. Default none (pages only counted). */
  readonly backend?: BalloonBackend;
  /**
   * Balloon feature bits offered (bit numbers of spec 5.5.3). Default all six: MUST_TELL_HOST,
   * STATS_VQ, DEFLATE_ON_OOM, FREE_PAGE_HINT, PAGE_POISON, PAGE_REPORTING.
   */
  readonly balloonFeatures?: readonly number[];
  /** Refuse FEATURES_OK when the driver did not accept an offered MUST_TELL_HOST ([balloon.dev.1]). Default false. */
  readonly requireMustTellHost?: boolean;
  /** Maximum size of every queue (descriptors, 1..32768). Default 256. */
  readonly queueSize?: number;
  /** Largest inflate/deflate page array accepted, in bytes; a longer one needs a reset. Default 65536 (16384 pages). */
  readonly maxArrayBytes?: number;
  /** Ring and transport feature bits offered besides VIRTIO_F_VERSION_1. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED | RING_RESET. */
  readonly ringFeatures?: bigint;
}

/** Counters since construction. */
export interface BalloonCounters {
  /** 4096-byte pages received on the inflateq / deflateq / reporting_vq / free_page_vq (under the live command ID). */
  readonly inflated: number;
  readonly deflated: number;
  readonly reported: number;
  readonly hinted: number;
  /** Page numbers or ranges ignored: outside guest memory, or hints under a stale command ID ([balloon.dev.8]). */
  readonly ignored: number;
}

export const BALLOON_ALL_FEATURES: readonly number[] = [
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_PAGE_POISON,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
];

export const BALLOON_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

/** Most statistics entries read from one statsq buffer (the spec defines 10 tags; repeats are allowed). */
export const STATS_MAX_ENTRIES = 256;

export class BalloonDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_BALLOON_DEVICE_ID;
  readonly deviceFeatures: bigint;
  /** 2 plus one per optional queue whose feature is offered (numbered as in {@link balloonQueueIndex}). */
  readonly numQueues: number;
  readonly configSize: number;

  readonly #backend: BalloonBackend;
  readonly #queueSize: number;
  readonly #maxArray: number;
  readonly #requireTellHost: boolean;
  readonly #config = new BalloonConfig();
  #host: DeviceHost | undefined;
  #ctx: ActivateContext | undefined;
  #broken = false;
  /** The balloon queue (VIRTIO_BALLOON_INFLATEQ..REPORTING_VQ) at each virtqueue index, by the negotiated features. */
  #queueAt: number[] = [];
  /** The statsq buffer the device holds to request the next statistics (spec 5.5.6.3). */
  #statsChain: DescriptorChain | undefined;
  #lastStats: BalloonStats | undefined;
  /** The command ID the driver's hints currently arrive under (the last ID buffer it sent), or undefined. */
  #hintingUnder: number | undefined;
  /** Next free page hint command ID; IDs are never reused ([balloon.dev.7]). */
  #nextCmdId = 2;
  #inflated = 0;
  #deflated = 0;
  #reported = 0;
  #hinted = 0;
  #ignored = 0;

  /** @throws RangeError for out-of-range options */
  constructor(opts: BalloonDeviceOptions = {}) {
    const size = opts.queueSize ?? 256;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`balloon: queueSize ${size} outside 1..32768`);
    const max = opts.maxArrayBytes ?? 65536;
    if (!Number.isInteger(max) || max < 4) throw new RangeError(`balloon: maxArrayBytes ${max}`);
    this.#queueSize = size;
    this.#maxArray = max;
    this.#backend = opts.backend ?? {};
    this.#requireTellHost = opts.requireMustTellHost ?? false;
    let f = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? BALLOON_DEFAULT_RING_FEATURES);
    for (const bit of opts.balloonFeatures ?? BALLOON_ALL_FEATURES) {
      if (!BALLOON_ALL_FEATURES.includes(bit)) throw new RangeError(`balloon: unknown feature bit ${bit}`);
      f |= featureMask(bit);
    }
    this.deviceFeatures = f;
    this.numQueues = balloonQueueCount(f);
    this.configSize = this.#config.size;
  }

  // ---- host API ----

  /** num_pages: the number of 4096-byte pages the host wants in the balloon. */
  get numPages(): number {
    return this.#config.numPages;
  }

  /**
   * Asks the driver for a balloon of `pages` 4096-byte pages (sets num_pages and sends a
   * configuration change notification). @throws RangeError unless 0..2^32-1
   */
  setNumPages(pages: number): void {
    if (!Number.isInteger(pages) || pages < 0 || pages > 0xffffffff) throw new RangeError(`balloon: num_pages ${pages}`);
    this.#config.numPages = pages;
    this.#host?.configChanged();
  }

  /** actual: the number of pages the driver says are in the balloon. */
  get actual(): number {
    return this.#config.actual;
  }

  /** The statistics the driver last delivered, by tag, or undefined. */
  get lastStats(): BalloonStats | undefined {
    return this.#lastStats;
  }

  get counters(): BalloonCounters {
    return { inflated: this.#inflated, deflated: this.#deflated, reported: this.#reported, hinted: this.#hinted, ignored: this.#ignored };
  }

  /**
   * Requests fresh memory statistics: uses the statsq buffer the device holds; the driver
   * answers with a new buffer, delivered to the backend's stats hook and {@link lastStats}.
   * @returns false when STATS_VQ is not live or no buffer is held (a request is outstanding)
   */
  requestStats(): boolean {
    const ctx = this.#ctx;
    const index = this.#queueAt.indexOf(VIRTIO_BALLOON_STATSQ);
    const q = ctx?.queues[index];
    const chain = this.#statsChain;
    if (!ctx || !q || !chain || this.#broken) return false;
    this.#statsChain = undefined;
    q.push(chain, 0);
    if (q.needsNotification()) ctx.interrupt.usedBuffer(index);
    return true;
  }

  /** free_page_hint_cmd_id as the driver reads it. */
  get freePageHintCmdId(): number {
    return this.#config.freePageHintCmdId;
  }

  /**
   * Starts a round of free page hinting under a new command ID (never one used before) and
   * notifies the driver. @returns the command ID
   */
  startHinting(): number {
    const id = this.#nextCmdId;
    this.#nextCmdId = id === 0xffffffff ? 2 : id + 1;
    this.#setCmdId(id);
    return id;
  }

  /** Sets free_page_hint_cmd_id to STOP: the device cannot use hints now; hinted pages stay hinted. */
  stopHinting(): void {
    this.#setCmdId(VIRTIO_BALLOON_CMD_ID_STOP);
  }

  /**
   * Sets free_page_hint_cmd_id to DONE: the device no longer needs the hinted pages
   * ([balloon.dev.11]); the backend's hintsDone hook runs first, so nothing modifies them afterwards ([balloon.dev.10]).
   */
  finishHinting(): void {
    this.#backend.hintsDone?.();
    this.#setCmdId(VIRTIO_BALLOON_CMD_ID_DONE);
  }

  /** poison_val as the driver wrote it (meaningful with VIRTIO_BALLOON_F_PAGE_POISON). */
  get poisonVal(): number {
    return this.#config.poisonVal;
  }

  #setCmdId(id: number): void {
    this.#config.freePageHintCmdId = id;
    this.#hintingUnder = undefined;
    this.#host?.configChanged();
  }

  // ---- VirtioDevice ----

  attach(host: DeviceHost): void {
    this.#host = host;
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < this.numQueues ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#config.write(offset, width, value, this.#ctx !== undefined);
  }

  validateFeatures(features: bigint): boolean {
    // [balloon.dev.1] the device may refuse a driver that did not accept MUST_TELL_HOST.
    if (this.#requireTellHost && hasFeature(this.deviceFeatures, VIRTIO_BALLOON_F_MUST_TELL_HOST)) {
      return hasFeature(features, VIRTIO_BALLOON_F_MUST_TELL_HOST);
    }
    return true;
  }

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    // The queues are numbered by what was negotiated, as Linux numbers them (see queues.ts).
    this.#queueAt = [];
    for (let queue = VIRTIO_BALLOON_INFLATEQ; queue < VIRTIO_BALLOON_NUM_QUEUES; queue++) {
      const index = balloonQueueIndex(queue, ctx.features);
      if (index !== undefined) this.#queueAt[index] = queue;
    }
    for (let i = 0; i < this.numQueues; i++) this.#run(i);
  }

  queueNotify(queueIndex: number): void {
    this.#run(queueIndex);
  }

  enableQueue(queueIndex: number): void {
    this.#run(queueIndex);
  }

  resetQueue(queueIndex: number): void {
    const queue = this.#queueAt[queueIndex];
    if (queue === VIRTIO_BALLOON_STATSQ) this.#statsChain = undefined;
    if (queue === VIRTIO_BALLOON_FREE_PAGE_VQ) this.#hintingUnder = undefined;
  }

  reset(): void {
    this.#ctx = undefined;
    this.#queueAt = [];
    this.#broken = false;
    this.#statsChain = undefined;
    this.#hintingUnder = undefined;
    this.#config.resetDriverFields();
  }

  /** Drains queue `index`, handles each chain, notifies once. */
  #run(index: number): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[index];
    if (!ctx || !q || this.#broken) return;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) this.#handle(ctx, q, index, chain);
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      this.#broken = true;
      this.#statsChain = undefined;
      ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(index);
  }

  #handle(ctx: ActivateContext, q: DeviceQueue, index: number, chain: DescriptorChain): void {
    switch (this.#queueAt[index]) {
      case VIRTIO_BALLOON_INFLATEQ: {
        const ranges = this.#pfnRanges(ctx, chain);
        this.#inflated += pages(ranges);
        if (ranges.length > 0) this.#backend.inflate?.(ranges, ctx.memory);
        break;
      }
      case VIRTIO_BALLOON_DEFLATEQ: {
        const ranges = this.#pfnRanges(ctx, chain);
        this.#deflated += pages(ranges);
        if (ranges.length > 0) this.#backend.deflate?.(ranges, ctx.memory);
        break;
      }
      case VIRTIO_BALLOON_STATSQ:
        this.#stats(ctx, q, chain);
        return; // held until the next request
      case VIRTIO_BALLOON_FREE_PAGE_VQ:
        this.#hint(ctx, chain);
        break;
      case VIRTIO_BALLOON_REPORTING_VQ: {
        if (chain.readableLength > 0) throw new BalloonRequestError(`reporting_vq chain ${chain.id} has device-readable buffers`);
        const ranges = this.#segmentRanges(ctx, chain.writable);
        this.#reported += pages(ranges);
        const poison = hasFeature(ctx.features, VIRTIO_BALLOON_F_PAGE_POISON) ? this.#config.poisonVal : undefined;
        if (ranges.length > 0) this.#backend.report?.(ranges, ctx.memory, poison);
        break;
      }
      default:
        throw new BalloonRequestError(`balloon: no queue ${index}`);
    }
    q.push(chain, 0);
  }

  /** The page frame number array of an inflate/deflate chain as merged, in-memory page ranges. */
  #pfnRanges(ctx: ActivateContext, chain: DescriptorChain): PageRange[] {
    const len = chain.readableLength;
    if (chain.writableLength > 0) throw new BalloonRequestError(`chain ${chain.id}: inflate/deflate buffers are device-readable only`);
    if (len % 4 !== 0) throw new BalloonRequestError(`chain ${chain.id}: page array of ${len} bytes is not a whole number of le32`);
    if (len > this.#maxArray) throw new BalloonRequestError(`chain ${chain.id}: page array of ${len} bytes exceeds ${this.#maxArray}`);
    const r = new ChainReader(ctx.memory, chain.readable);
    const ranges: { addr: number; len: number }[] = [];
    for (let i = 0; i < len; i += 4) {
      const addr = r.readU32() * VIRTIO_BALLOON_PAGE_SIZE;
      if (!ctx.memory.contains(addr, VIRTIO_BALLOON_PAGE_SIZE)) {
        this.#ignored++;
        continue;
      }
      const last = ranges[ranges.length - 1];
      if (last && last.addr + last.len === addr) last.len += VIRTIO_BALLOON_PAGE_SIZE;
      else ranges.push({ addr, len: VIRTIO_BALLOON_PAGE_SIZE });
    }
    return ranges;
  }

  /** Page-aligned segments (reported or hinted pages) that lie in guest memory; others are ignored. */
  #segmentRanges(ctx: ActivateContext, segs: DescriptorChain['writable']): PageRange[] {
    const out: PageRange[] = [];
    const mask = VIRTIO_BALLOON_PAGE_SIZE - 1;
    for (const s of segs) {
      if (s.len === 0) continue;
      if (s.addr % VIRTIO_BALLOON_PAGE_SIZE !== 0 || (s.len & mask) !== 0 || !ctx.memory.contains(s.addr, s.len)) {
        this.#ignored++;
        continue;
      }
      out.push({ addr: s.addr, len: s.len });
    }
    return out;
  }

  #stats(ctx: ActivateContext, q: DeviceQueue, chain: DescriptorChain): void {
    if (chain.writableLength > 0) throw new BalloonRequestError(`statsq chain ${chain.id} has device-writable buffers`);
    // A hostile driver's 4 GiB buffer must not keep the device reading: at most STATS_MAX_ENTRIES.
    const n = Math.min(Math.floor(chain.readableLength / VIRTIO_BALLOON_STAT_SIZE), STATS_MAX_ENTRIES);
    const r = new ChainReader(ctx.memory, chain.readable);
    const stats = new Map<number, bigint>();
    // [balloon.dev.5] entries in any order; [balloon.dev.4] unknown tags ignored.
    for (let i = 0; i < n; i++) {
      const tag = r.readU16();
      const val = r.readU64();
      if (tag < VIRTIO_BALLOON_S_NR) stats.set(tag, val);
    }
    // A driver that made a second buffer available: the older one goes back, used.
    if (this.#statsChain) q.push(this.#statsChain, 0);
    this.#statsChain = chain;
    this.#lastStats = stats;
    this.#backend.stats?.(stats);
  }

  #hint(ctx: ActivateContext, chain: DescriptorChain): void {
    if (chain.readableLength > 0) {
      if (chain.readableLength !== 4) throw new BalloonRequestError(`free_page_vq chain ${chain.id}: command ID buffer of ${chain.readableLength} bytes`);
      const id = new ChainReader(ctx.memory, chain.readable).readU32();
      const current = this.#config.freePageHintCmdId;
      // Hints count only under the ID the device currently shows ([balloon.dev.8]).
      this.#hintingUnder = id === current && id > VIRTIO_BALLOON_CMD_ID_DONE ? id : undefined;
    }
    if (chain.writable.length === 0) return;
    const under = this.#hintingUnder;
    if (under === undefined || under !== this.#config.freePageHintCmdId) {
      this.#ignored += chain.writable.length;
      return;
    }
    const ranges = this.#segmentRanges(ctx, chain.writable);
    this.#hinted += pages(ranges);
    if (ranges.length > 0) this.#backend.hint?.(ranges, ctx.memory, under);
  }
}

function pages(ranges: readonly PageRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.len >>> VIRTIO_BALLOON_PFN_SHIFT;
  return n;
}
