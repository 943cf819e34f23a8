/**
 * The traditional memory balloon, driver side (spec 5.5): moves the balloon toward num_pages
 * with inflate/deflate page arrays, keeps actual up to date, answers statistics requests,
 * hints free pages under the device's command ID and reports free pages.
 */
import { balloonQueueIndex } from './queues.js';
import {
  DriverDevice,
  featureMask,
  hasFeature,
  initializeDevice,
  selectFeatures,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
  type FeatureDependency,
  type QueueRequest,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory, Segment } from '@virtio/ring';
import { BalloonDriverError } from './errors.js';
import type { GuestPagePool } from './page-pool.js';
import {
  BALLOON_CONFIG_ACTUAL,
  BALLOON_CONFIG_FREE_PAGE_HINT_CMD_ID,
  BALLOON_CONFIG_NUM_PAGES,
  BALLOON_CONFIG_POISON_VAL,
  VIRTIO_BALLOON_CMD_ID_DONE,
  VIRTIO_BALLOON_CMD_ID_STOP,
  VIRTIO_BALLOON_DEFLATEQ,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_PAGE_POISON,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_FREE_PAGE_VQ,
  VIRTIO_BALLOON_INFLATEQ,
  VIRTIO_BALLOON_PAGE_SIZE,
  VIRTIO_BALLOON_REPORTING_VQ,
  VIRTIO_BALLOON_STAT_SIZE,
  VIRTIO_BALLOON_STATSQ,
} from './protocol.js';

/** Most page frame numbers in one inflate/deflate request (as Linux's VIRTIO_BALLOON_ARRAY_PFNS_MAX). */
export const BALLOON_ARRAY_PFNS_MAX = 256;
/** Most pages in one free page report. */
export const BALLOON_REPORT_MAX_PAGES = 32;

export interface BalloonDriverOptions {
  /** Guest memory holding the rings, request buffers and the pages. */
  readonly memory: GuestMemory;
  /** Allocates the rings and request buffers (freed after use), e.g. a FreeListAllocator. */
  readonly allocator: GuestAllocator;
  /** Where balloon pages come from and go back to. */
  readonly pages: GuestPagePool;
  /**
   * Balloon feature bits accepted when offered. Default MUST_TELL_HOST ([balloon.drv.1]),
   * DEFLATE_ON_OOM, FREE_PAGE_HINT, PAGE_REPORTING, plus STATS_VQ when {@link stats} is given
   * and PAGE_POISON when {@link poisonVal} is given ([balloon.drv.2]: only a driver that writes
   * poison_val to deflated pages accepts it).
   */
  readonly balloonFeatures?: readonly number[];
  /** Memory statistics the driver supplies, as (tag, value) pairs; enables STATS_VQ. The first call fixes the subset of tags. */
  readonly stats?: () => Iterable<readonly [number, bigint]>;
  /** The value (le32 pattern) the guest writes to pages it takes back; enables PAGE_POISON. */
  readonly poisonVal?: number;
  /** The guest expects free pages to keep their contents: PAGE_REPORTING is then accepted only with PAGE_POISON ([balloon.drv.3]). */
  readonly expectInitializedPages?: boolean;
  /** Most pages hinted per hinting round. Default 64. */
  readonly hintBatch?: number;
  /** Requested queue size (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** Ring features accepted when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
}

interface Token {
  /** Request buffer to free when used, if any. */
  readonly addr: number | undefined;
  done(): void;
  fail(err: Error): void;
}

const DEFAULT_FEATURES = [
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_FREE_PAGE_HINT,
  VIRTIO_BALLOON_F_PAGE_REPORTING,
];

export class BalloonDriver {
  #device: DriverDevice | undefined;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #pool: GuestPagePool;
  readonly #statsFn: (() => Iterable<readonly [number, bigint]>) | undefined;
  readonly #poison: number | undefined;
  readonly #hintBatch: number;
  /** Page frame numbers in the balloon whose inflate the device acknowledged. */
  readonly #balloon: number[] = [];
  /** Page frame numbers hinted and not yet released (released on DONE). */
  readonly #hinted: number[] = [];
  readonly #inFlight = new Set<Token>();
  #statsTags: number[] | undefined;
  #statsAddr = 0;
  /** The command ID the driver last started hinting under (only one ID buffer per ID, [balloon.drv.26]). */
  #hintId: number | undefined;
  #serial: Promise<unknown> = Promise.resolve();
  #closed: Error | undefined;

  private constructor(opts: BalloonDriverOptions, hintBatch: number, poison: number | undefined) {
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
    this.#pool = opts.pages;
    this.#statsFn = opts.stats;
    this.#poison = poison;
    this.#hintBatch = hintBatch;
  }

  /** The initialized device: negotiated features, queues, configuration access. */
  get device(): DriverDevice {
    return this.#device!;
  }

  /**
   * Initializes the balloon behind `transport` (spec 3.1.1 and 5.5.5): the queues of the
   * negotiated features, poison_val before DRIVER_OK ([balloon.drv.35]), the first statistics
   * buffer ([balloon.drv.17]).
   * @throws DeviceInitError from the initialization sequence; RangeError for bad options
   */
  static initialize(transport: DriverTransport, opts: BalloonDriverOptions): BalloonDriver {
    const hintBatch = opts.hintBatch ?? 64;
    if (!Number.isInteger(hintBatch) || hintBatch < 1) throw new RangeError(`balloon: hintBatch ${hintBatch}`);
    let balloonWanted = 0n;
    for (const bit of opts.balloonFeatures ?? DEFAULT_FEATURES) balloonWanted |= featureMask(bit);
    if (opts.stats) balloonWanted |= featureMask(VIRTIO_BALLOON_F_STATS_VQ);
    else balloonWanted &= ~featureMask(VIRTIO_BALLOON_F_STATS_VQ);
    if (opts.poisonVal !== undefined) balloonWanted |= featureMask(VIRTIO_BALLOON_F_PAGE_POISON);
    else balloonWanted &= ~featureMask(VIRTIO_BALLOON_F_PAGE_POISON);
    const deps: FeatureDependency[] = opts.expectInitializedPages ? [[VIRTIO_BALLOON_F_PAGE_REPORTING, VIRTIO_BALLOON_F_PAGE_POISON]] : [];
    const wanted = balloonWanted | (opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED));
    // The optional queues exist only with their features, so work out the negotiation first.
    const expected = selectFeatures(transport.readDeviceFeatures(), wanted, transport.kind, deps);
    const queues: QueueRequest[] = [
      { index: VIRTIO_BALLOON_INFLATEQ, size: opts.queueSize },
      { index: VIRTIO_BALLOON_DEFLATEQ, size: opts.queueSize },
    ];
    // Absent optional queues take no index (queues.ts): free_page_vq is 2 without STATS_VQ.
    for (const queue of [VIRTIO_BALLOON_STATSQ, VIRTIO_BALLOON_FREE_PAGE_VQ, VIRTIO_BALLOON_REPORTING_VQ]) {
      const index = balloonQueueIndex(queue, expected);
      if (index !== undefined) queues.push({ index, size: opts.queueSize });
    }
    const poison = hasFeature(expected, VIRTIO_BALLOON_F_PAGE_POISON) ? opts.poisonVal : undefined;
    const driver = new BalloonDriver(opts, hintBatch, poison);
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: expected,
      requiredFeatures: expected & 0xffffffn,
      featureDependencies: deps,
      queues,
      setup: (qs, features) => {
        if (poison !== undefined) transport.writeConfig(BALLOON_CONFIG_POISON_VAL, 4, poison >>> 0);
        const stats = balloonQueueIndex(VIRTIO_BALLOON_STATSQ, features);
        if (stats !== undefined) driver.#addStats(qs[stats]!);
      },
    });
    driver.#device = device;
    return driver;
  }

  /** Pages in the balloon (acknowledged by the device). */
  get pages(): number {
    return this.#balloon.length;
  }

  /** Pages hinted and held until the device says DONE. */
  get hintedPages(): number {
    return this.#hinted.length;
  }

  /** num_pages as the device currently asks. */
  get numPages(): number {
    return this.device.readConfig((c) => c.u32(BALLOON_CONFIG_NUM_PAGES));
  }

  /**
   * Inflates or deflates until the balloon holds num_pages pages (or the page pool runs dry),
   * in requests of at most {@link BALLOON_ARRAY_PFNS_MAX} pages, writing actual after each
   * ([balloon.drv.14]). Calls are serialized.
   * @throws BalloonDriverError (rejects) when the device is reset or needs a reset
   */
  adjust(): Promise<void> {
    return this.#serialize(async () => {
      for (;;) {
        const target = this.numPages;
        const have = this.#balloon.length;
        if (target > have) {
          const pfns = this.#pool.take(Math.min(target - have, BALLOON_ARRAY_PFNS_MAX));
          if (pfns.length === 0) return;
          await this.#inflate(pfns);
        } else if (target < have) {
          await this.#deflate(Math.min(have - target, BALLOON_ARRAY_PFNS_MAX));
        } else {
          return;
        }
      }
    });
  }

  /**
   * The guest is out of memory: takes up to `pages` pages back from the balloon. Without
   * VIRTIO_BALLOON_F_DEFLATE_ON_OOM only pages beyond num_pages may be taken ([balloon.drv.7]).
   * @returns the number of pages returned to the pool
   * @throws BalloonDriverError (rejects) when no page may be taken or on reset
   */
  deflateOnOom(pages: number): Promise<number> {
    return this.#serialize(async () => {
      let n = Math.min(pages, this.#balloon.length);
      if (!hasFeature(this.device.features, VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) n = Math.min(n, this.#balloon.length - this.numPages);
      if (n <= 0) throw new BalloonDriverError('balloon: may not take pages from the balloon (DEFLATE_ON_OOM not negotiated)');
      let done = 0;
      while (done < n) {
        const k = Math.min(n - done, BALLOON_ARRAY_PFNS_MAX);
        await this.#deflate(k);
        done += k;
      }
      return done;
    });
  }

  /**
   * Reports up to `pages` free pages from the pool (VIRTIO_BALLOON_F_PAGE_REPORTING), at most
   * {@link BALLOON_REPORT_MAX_PAGES}; they go back to the pool once the device acknowledged the
   * report ([balloon.drv.39]). Under PAGE_POISON they are filled with poison_val first ([balloon.drv.38]).
   * @returns the number of pages reported
   * @throws BalloonDriverError (rejects) when the feature was not negotiated or on reset
   */
  async reportFreePages(pages: number): Promise<number> {
    if (!hasFeature(this.device.features, VIRTIO_BALLOON_F_PAGE_REPORTING)) throw new BalloonDriverError('balloon: PAGE_REPORTING not negotiated');
    const pfns = this.#pool.take(Math.min(pages, BALLOON_REPORT_MAX_PAGES)).sort((a, b) => a - b);
    if (pfns.length === 0) return 0;
    if (this.#poison !== undefined) for (const p of pfns) this.#fillPoison(p);
    try {
      await this.#request(this.#index(VIRTIO_BALLOON_REPORTING_VQ), [], merge(pfns), undefined);
    } finally {
      this.#pool.give(pfns);
    }
    return pfns.length;
  }

  /**
   * Call when the device interrupts: completes used requests, refills the statsq, follows
   * free_page_hint_cmd_id on a configuration change. On DEVICE_NEEDS_RESET pending requests reject.
   * @returns whether the configuration changed (call {@link adjust} to follow num_pages)
   */
  handleInterrupt(): boolean {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new BalloonDriverError('balloon: the device needs a reset'));
      return false;
    }
    if (ev.usedBuffer) this.#reap();
    if (ev.configChange) this.#followHint();
    return ev.configChange;
  }

  /** Resets the device; pending requests reject; balloon and hinted pages go back to the pool. */
  reset(): void {
    this.device.reset();
    this.#close(new BalloonDriverError('balloon: device reset'));
    this.#pool.give(this.#balloon.splice(0));
    this.#pool.give(this.#hinted.splice(0));
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(() => {
      if (this.#closed) throw this.#closed;
      return fn();
    });
    this.#serial = run.catch(() => undefined);
    return run;
  }

  async #inflate(pfns: number[]): Promise<void> {
    try {
      await this.#pfnRequest(VIRTIO_BALLOON_INFLATEQ, pfns);
    } catch (err) {
      this.#pool.give(pfns);
      throw err;
    }
    // [balloon.drv.12] the pages stay out of the pool; only acknowledged pages may be deflated ([balloon.drv.13]).
    this.#balloon.push(...pfns);
    this.#writeActual();
  }

  async #deflate(n: number): Promise<void> {
    const pfns = this.#balloon.splice(this.#balloon.length - n, n);
    const tell = hasFeature(this.device.features, VIRTIO_BALLOON_F_MUST_TELL_HOST);
    // [balloon.drv.11] without MUST_TELL_HOST the pages may be reused before the ack; [balloon.drv.10] with it, not.
    if (!tell) this.#release(pfns);
    this.#writeActual();
    try {
      await this.#pfnRequest(VIRTIO_BALLOON_DEFLATEQ, pfns);
    } finally {
      if (tell) this.#release(pfns);
    }
  }

  /** Gives pages back to the guest, filled with poison_val under PAGE_POISON ([balloon.drv.34]). */
  #release(pfns: readonly number[]): void {
    if (this.#poison !== undefined) for (const p of pfns) this.#fillPoison(p);
    this.#pool.give(pfns);
  }

  #fillPoison(pfn: number): void {
    const base = pfn * VIRTIO_BALLOON_PAGE_SIZE;
    for (let off = 0; off < VIRTIO_BALLOON_PAGE_SIZE; off += 4) this.#memory.writeU32(base + off, this.#poison! >>> 0);
  }

  #writeActual(): void {
    // [balloon.drv.14] actual follows every change of the balloon, as one 4-byte write.
    this.device.writeConfig(BALLOON_CONFIG_ACTUAL, 4, this.#balloon.length);
  }

  async #pfnRequest(queue: number, pfns: readonly number[]): Promise<void> {
    const addr = this.#allocator.alloc(pfns.length * 4, 4);
    for (let i = 0; i < pfns.length; i++) this.#memory.writeU32(addr + i * 4, pfns[i]);
    await this.#request(queue, [{ addr, len: pfns.length * 4 }], [], addr);
  }

  /** Adds one chain, kicks, resolves when used. Frees `addr` when used or failed. */
  #request(queue: number, out: Segment[], inSegs: Segment[], addr: number | undefined): Promise<void> {
    if (this.#closed) {
      if (addr !== undefined) this.#allocator.free(addr);
      return Promise.reject(this.#closed);
    }
    return new Promise((resolve, reject) => {
      const q = this.device.queues[queue] as DriverQueue<Token> | undefined;
      const token: Token = { addr, done: resolve, fail: reject };
      if (!q || !q.add(out, inSegs, token)) {
        if (addr !== undefined) this.#allocator.free(addr);
        reject(new BalloonDriverError(`balloon: queue ${queue} is full or not set up`));
        return;
      }
      this.#inFlight.add(token);
      this.device.kick(queue);
    });
  }

  /** Fills the statistics buffer and makes it available (at most one at a time, [balloon.drv.16]). */
  #addStats(q: DriverQueue): void {
    const entries = new Map<number, bigint>();
    for (const [tag, val] of this.#statsFn!()) {
      if (Number.isInteger(tag) && tag >= 0 && tag <= 0xffff && !entries.has(tag)) entries.set(tag, BigInt.asUintN(64, val));
    }
    if (!this.#statsTags) {
      if (entries.size === 0) throw new RangeError('balloon: the stats callback supplied no statistic');
      this.#statsTags = [...entries.keys()];
      this.#statsAddr = this.#allocator.alloc(this.#statsTags.length * VIRTIO_BALLOON_STAT_SIZE, 8);
    }
    // [balloon.drv.19]/[balloon.drv.23] one entry per supported statistic, the same subset every time.
    const tags = this.#statsTags;
    for (let i = 0; i < tags.length; i++) {
      const at = this.#statsAddr + i * VIRTIO_BALLOON_STAT_SIZE;
      this.#memory.writeU16(at, tags[i]);
      this.#memory.writeU64(at + 2, entries.get(tags[i]) ?? 0n);
    }
    const token: Token = {
      addr: undefined,
      done: () => {
        // [balloon.drv.18] the device used the buffer: a fresh one goes back.
        const index = this.#index(VIRTIO_BALLOON_STATSQ);
        const sq = this.device.queues[index];
        if (sq && !this.#closed) {
          this.#addStats(sq);
          this.device.kick(index);
        }
      },
      fail: () => undefined,
    };
    (q as DriverQueue<Token>).add([{ addr: this.#statsAddr, len: tags.length * VIRTIO_BALLOON_STAT_SIZE }], [], token);
    this.#inFlight.add(token);
  }

  /** Follows free_page_hint_cmd_id: starts a round for a new ID, releases hinted pages on DONE. */
  #followHint(): void {
    if (!hasFeature(this.device.features, VIRTIO_BALLOON_F_FREE_PAGE_HINT) || this.#closed) return;
    const id = this.device.readConfig((c) => c.u32(BALLOON_CONFIG_FREE_PAGE_HINT_CMD_ID));
    if (id === VIRTIO_BALLOON_CMD_ID_DONE) {
      // [balloon.drv.33] all hinted pages go back to the guest (as uninitialized memory, [balloon.drv.31]).
      this.#pool.give(this.#hinted.splice(0));
      return;
    }
    // [balloon.drv.28] STOP: no more hints; [balloon.drv.26] one ID buffer per command ID.
    if (id === VIRTIO_BALLOON_CMD_ID_STOP || id === this.#hintId) return;
    this.#hintId = id;
    const index = this.#index(VIRTIO_BALLOON_FREE_PAGE_VQ);
    const q = this.device.queues[index] as DriverQueue<Token> | undefined;
    if (!q) return;
    // [balloon.drv.25] the round starts with the command ID; [balloon.drv.24] 4-byte output buffers.
    if (!this.#addCmdId(q, id)) return;
    const pfns = this.#pool.take(Math.max(0, Math.min(this.#hintBatch, q.config.size - 2)));
    let i = 0;
    for (; i < pfns.length; i++) {
      const token: Token = { addr: undefined, done: () => undefined, fail: () => undefined };
      if (!q.add([], [{ addr: pfns[i] * VIRTIO_BALLOON_PAGE_SIZE, len: VIRTIO_BALLOON_PAGE_SIZE }], token)) break;
      this.#inFlight.add(token);
      this.#hinted.push(pfns[i]);
    }
    this.#pool.give(pfns.slice(i));
    // [balloon.drv.29] no more pages to supply: the round ends with STOP.
    this.#addCmdId(q, VIRTIO_BALLOON_CMD_ID_STOP);
    this.device.kick(index);
  }

  /** The virtqueue index of an optional queue under the negotiated features (-1 when absent: no queue there). */
  #index(queue: number): number {
    return balloonQueueIndex(queue, this.device.features) ?? -1;
  }

  #addCmdId(q: DriverQueue<Token>, id: number): boolean {
    const addr = this.#allocator.alloc(4, 4);
    this.#memory.writeU32(addr, id);
    const token: Token = { addr, done: () => undefined, fail: () => undefined };
    if (!q.add([{ addr, len: 4 }], [], token)) {
      this.#allocator.free(addr);
      return false;
    }
    this.#inFlight.add(token);
    return true;
  }

  #reap(): void {
    for (const q of this.device.queues as (DriverQueue<Token> | undefined)[]) {
      if (!q) continue;
      for (;;) {
        let used;
        while ((used = q.reap()) !== null) {
          const t = used.token;
          if (!this.#inFlight.delete(t)) continue;
          if (t.addr !== undefined) this.#allocator.free(t.addr);
          t.done();
        }
        if (!q.enableInterrupts()) break;
      }
    }
  }

  #close(err: Error): void {
    this.#closed = err;
    for (const t of this.#inFlight) {
      if (t.addr !== undefined && !this.device.needsReset) this.#allocator.free(t.addr);
      t.fail(err);
    }
    this.#inFlight.clear();
  }
}

/** Contiguous page frame numbers (sorted) as device-writable segments, largest first possible ([balloon.drv.41]). */
function merge(pfns: readonly number[]): Segment[] {
  const out: { addr: number; len: number }[] = [];
  for (const p of pfns) {
    const addr = p * VIRTIO_BALLOON_PAGE_SIZE;
    const last = out[out.length - 1];
    if (last && last.addr + last.len === addr) last.len += VIRTIO_BALLOON_PAGE_SIZE;
    else out.push({ addr, len: VIRTIO_BALLOON_PAGE_SIZE });
  }
  return out;
}
