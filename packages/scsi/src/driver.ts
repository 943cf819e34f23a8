/**
 * A virtio SCSI driver (driver side of spec 5.6) over @virtio/core's initialization: submits
 * commands on the request queues, task management and asynchronous notification requests on
 * the controlq, and keeps the eventq populated with buffers, reporting each event it reads.
 * It holds itself to the spec's driver requirements: it writes no configuration field other
 * than sense_size and cdb_size ([scsi.drv.1]), keeps at most min(cmd_per_lun, queue size)
 * commands in flight per LUN ([scsi.drv.2]), sends task_attr, prio and crn as zero
 * ([scsi.drv.3]) and gives the eventq device-writable buffers of at least event_info_size
 * bytes, never fewer than struct virtio_scsi_event's 16 ([scsi.drv.5]).
 */
import {
  featureMask,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverDevice,
  type DriverTransport,
  type ResetWaitOptions,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory, Segment } from '@virtio/ring';
import { ScsiConfigOffset as O, VIRTIO_SCSI_MAX_SENSE_OR_CDB } from './config.js';
import { ScsiDriverError } from './errors.js';
import { decodeLun, encodeLun } from './lun.js';
import {
  VIRTIO_SCSI_CMD_HEADER_SIZE,
  VIRTIO_SCSI_CMD_RESP_SIZE,
  VIRTIO_SCSI_CONTROLQ,
  VIRTIO_SCSI_CTRL_AN_RESP_SIZE,
  VIRTIO_SCSI_CTRL_AN_SIZE,
  VIRTIO_SCSI_CTRL_TMF_SIZE,
  VIRTIO_SCSI_EVENT_SIZE,
  VIRTIO_SCSI_EVENTQ,
  VIRTIO_SCSI_F_CHANGE,
  VIRTIO_SCSI_F_HOTPLUG,
  VIRTIO_SCSI_F_INOUT,
  VIRTIO_SCSI_REQUESTQ_BASE,
  VIRTIO_SCSI_T_AN_QUERY,
  VIRTIO_SCSI_T_AN_SUBSCRIBE,
  VIRTIO_SCSI_T_EVENTS_MISSED,
  VIRTIO_SCSI_T_TMF,
  type ScsiLunAddress,
} from './protocol.js';

/** Every feature this driver can use (VIRTIO_SCSI_F_T10_PI is not: it sends no protection information). */
export const SCSI_DRIVER_FEATURES =
  featureMask(VIRTIO_SCSI_F_INOUT, VIRTIO_SCSI_F_HOTPLUG, VIRTIO_SCSI_F_CHANGE) |
  featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);

export interface ScsiDriverOptions {
  readonly memory: GuestMemory;
  /** Where rings, request headers, responses and event buffers are allocated. */
  readonly allocator: GuestAllocator;
  /** Features to accept when offered (default {@link SCSI_DRIVER_FEATURES}). */
  readonly wantedFeatures?: bigint;
  /** Request queues to use, at most num_queues (default 1). */
  readonly queues?: number;
  /** Queue size to ask for (default the device's maximum). */
  readonly queueSize?: number;
  /** Buffers kept in the eventq (default 8). */
  readonly eventBuffers?: number;
  /** sense_size / cdb_size to write into the configuration (default: keep the device's). At most 4096. */
  readonly senseSize?: number;
  readonly cdbSize?: number;
}

/** The configuration as read after FEATURES_OK. */
export interface ScsiDriverConfig {
  readonly numQueues: number;
  readonly segMax: number;
  readonly maxSectors: number;
  readonly cmdPerLun: number;
  readonly eventInfoSize: number;
  readonly senseSize: number;
  readonly cdbSize: number;
  readonly maxChannel: number;
  readonly maxTarget: number;
  readonly maxLun: number;
}

/** One command for a logical unit. */
export interface ScsiRequest extends ScsiLunAddress {
  /** The CDB (at most cdb_size bytes; zero padded). */
  readonly cdb: Uint8Array;
  /** Device-readable data buffers (dataout). */
  readonly dataOut?: readonly Segment[];
  /** Device-writable data buffers (datain). */
  readonly dataIn?: readonly Segment[];
  /** Command identifier (tag), for ABORT TASK and QUERY TASK; default a per-driver counter. */
  readonly id?: bigint;
  /** Request queue (0-based among the request queues), default 0. */
  readonly queue?: number;
}

/** The device-writable part of a completed command. */
export interface ScsiResult {
  readonly response: number;
  readonly status: number;
  readonly statusQualifier: number;
  readonly residual: number;
  /** The sense data (sense_len bytes). */
  readonly sense: Uint8Array;
  /** The id the command carried. */
  readonly id: bigint;
}

/** An event read from the eventq. */
export interface ScsiEvent {
  /** `event` without VIRTIO_SCSI_T_EVENTS_MISSED. */
  readonly event: number;
  /** Bit 31 was set: events were lost. */
  readonly missed: boolean;
  /** The addressed unit, null when `lun` is not in the single-level format (e.g. all zero). */
  readonly address: ScsiLunAddress | null;
  readonly reason: number;
}

const CTRL_SLOT = 32;

/** A ring with a slab of fixed-size slots, one per descriptor chain in flight. */
class SlotRing {
  readonly free: number[] = [];
  readonly pending: (((slot: number) => void) | undefined)[];
  readonly rejecters: (((err: Error) => void) | undefined)[];
  /** Work waiting for a slot, ring room or a LUN's budget, oldest first; each returns false while it still cannot go. */
  readonly waiting: { readonly go: () => boolean; readonly reject: (err: Error) => void }[] = [];
  kickScheduled = false;

  constructor(
    readonly index: number,
    readonly ring: DriverQueue<number>,
    readonly slab: number,
    readonly slotSize: number,
  ) {
    const n = ring.config.size;
    this.pending = new Array(n).fill(undefined);
    this.rejecters = new Array(n).fill(undefined);
    for (let i = n - 1; i >= 0; i--) this.free.push(i);
  }

  addr(slot: number): number {
    return this.slab + slot * this.slotSize;
  }
}

export class ScsiDriver {
  readonly device: DriverDevice;
  readonly memory: GuestMemory;
  readonly config: ScsiDriverConfig;
  /** Called for every event the device reports; events read before it is set are kept in {@link events}. */
  onEvent: ((e: ScsiEvent) => void) | undefined;
  /** Events read while no {@link onEvent} handler was set, oldest first. */
  readonly events: ScsiEvent[] = [];
  readonly #requestQueues: SlotRing[] = [];
  readonly #control: SlotRing;
  readonly #eventq: DriverQueue<number>;
  readonly #eventSize: number;
  readonly #eventSlab: number;
  /** Commands in flight per LUN key ([scsi.drv.2]). */
  readonly #perLun = new Map<number, number>();
  #nextId = 1n;
  #failed: Error | undefined;

  /**
   * Initializes the device behind `transport` (spec 3.1.1) as a SCSI host.
   * @throws DeviceInitError when the device is not usable; RangeError for sizes above 4096
   */
  constructor(transport: DriverTransport, opts: ScsiDriverOptions) {
    this.memory = opts.memory;
    for (const v of [opts.senseSize, opts.cdbSize]) {
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > VIRTIO_SCSI_MAX_SENSE_OR_CDB)) throw new RangeError(`scsi: sense/cdb size ${v} outside 0..4096`);
    }
    const queues: { index: number; size?: number }[] = [];
    let eventInfoSize = VIRTIO_SCSI_EVENT_SIZE;
    const eventBuffers = opts.eventBuffers ?? 8;
    let eventSlab = 0;
    let eventSize = VIRTIO_SCSI_EVENT_SIZE;
    this.device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: opts.wantedFeatures ?? SCSI_DRIVER_FEATURES,
      queues,
      checkConfig: (c) => {
        const n = Math.min(c.u32(O.num_queues), opts.queues ?? 1);
        eventInfoSize = c.u32(O.event_info_size);
        queues.push({ index: VIRTIO_SCSI_CONTROLQ, size: opts.queueSize }, { index: VIRTIO_SCSI_EVENTQ, size: opts.queueSize });
        for (let i = 0; i < n; i++) queues.push({ index: VIRTIO_SCSI_REQUESTQ_BASE + i, size: opts.queueSize });
        return n >= 1 && eventInfoSize <= 4096;
      },
      setup: (qs) => {
        // [scsi.drv.1] only sense_size and cdb_size are ever written.
        if (opts.senseSize !== undefined) transport.writeConfig(O.sense_size, 4, opts.senseSize);
        if (opts.cdbSize !== undefined) transport.writeConfig(O.cdb_size, 4, opts.cdbSize);
        // [scsi.drv.5] device-writable, at least event_info_size and at least 16 bytes.
        eventSize = Math.max(VIRTIO_SCSI_EVENT_SIZE, eventInfoSize);
        const eq = qs[VIRTIO_SCSI_EVENTQ] as DriverQueue<number>;
        const count = Math.min(eventBuffers, eq.config.size);
        eventSlab = opts.allocator.alloc(eventSize * Math.max(count, 1), 8);
        for (let i = 0; i < count; i++) eq.add([], [{ addr: eventSlab + i * eventSize, len: eventSize }], i);
      },
    });
    this.config = this.#readConfig();
    this.#eventSize = eventSize;
    this.#eventSlab = eventSlab;
    this.#eventq = this.device.queues[VIRTIO_SCSI_EVENTQ] as DriverQueue<number>;
    const ctrl = this.device.queues[VIRTIO_SCSI_CONTROLQ] as DriverQueue<number>;
    this.#control = new SlotRing(VIRTIO_SCSI_CONTROLQ, ctrl, opts.allocator.alloc(CTRL_SLOT * ctrl.config.size, 8), CTRL_SLOT);
    const slot = align8(VIRTIO_SCSI_CMD_HEADER_SIZE + this.config.cdbSize) + align8(VIRTIO_SCSI_CMD_RESP_SIZE + this.config.senseSize);
    for (let i = VIRTIO_SCSI_REQUESTQ_BASE; i < this.device.queues.length; i++) {
      const q = this.device.queues[i] as DriverQueue<number> | undefined;
      if (!q) continue;
      this.#requestQueues.push(new SlotRing(i, q, opts.allocator.alloc(slot * q.config.size, 8), slot));
    }
  }

  /** The negotiated feature bits. */
  get features(): bigint {
    return this.device.features;
  }

  /** Number of request queues in use. */
  get numQueues(): number {
    return this.#requestQueues.length;
  }

  /** Commands in flight to the unit at `addr`. */
  inFlight(addr: ScsiLunAddress): number {
    return this.#perLun.get(addr.target * 16384 + addr.lun) ?? 0;
  }

  #readConfig(): ScsiDriverConfig {
    return this.device.readConfig((c) => ({
      numQueues: c.u32(O.num_queues),
      segMax: c.u32(O.seg_max),
      maxSectors: c.u32(O.max_sectors),
      cmdPerLun: c.u32(O.cmd_per_lun),
      eventInfoSize: c.u32(O.event_info_size),
      senseSize: c.u32(O.sense_size),
      cdbSize: c.u32(O.cdb_size),
      maxChannel: c.u16(O.max_channel),
      maxTarget: c.u16(O.max_target),
      maxLun: c.u32(O.max_lun),
    }));
  }

  /**
   * Sends a command and resolves with the device-writable part once the device used it.
   * @throws (rejects) RangeError for a CDB longer than cdb_size, both data directions without
   * VIRTIO_SCSI_F_INOUT, or a bad address; ScsiDriverError when the device failed or was reset
   */
  command(req: ScsiRequest): Promise<ScsiResult> {
    if (this.#failed) return Promise.reject(this.#failed);
    const rq = this.#requestQueues[req.queue ?? 0];
    if (!rq) return Promise.reject(new RangeError(`scsi: no request queue ${req.queue}`));
    const { cdbSize, senseSize } = this.config;
    if (req.cdb.length > cdbSize) return Promise.reject(new RangeError(`scsi: CDB of ${req.cdb.length} bytes exceeds cdb_size ${cdbSize}`));
    const dataOut = req.dataOut ?? [];
    const dataIn = req.dataIn ?? [];
    if (dataOut.length > 0 && dataIn.length > 0 && (this.features & featureMask(VIRTIO_SCSI_F_INOUT)) === 0n) {
      return Promise.reject(new RangeError('scsi: bidirectional command without VIRTIO_SCSI_F_INOUT'));
    }
    let lunBytes: Uint8Array;
    try {
      lunBytes = encodeLun(req);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const key = req.target * 16384 + req.lun;
    const id = req.id ?? this.#nextId++;
    const budget = Math.max(1, Math.min(this.config.cmdPerLun, rq.ring.config.size));
    const m = this.memory;
    return new Promise<ScsiResult>((resolve, reject) => {
      const attempt = (): boolean => {
        if ((this.#perLun.get(key) ?? 0) >= budget) return false;
        const slot = rq.free.pop();
        if (slot === undefined) return false;
        const base = rq.addr(slot);
        const resp = base + align8(VIRTIO_SCSI_CMD_HEADER_SIZE + cdbSize);
        m.write(base, lunBytes);
        m.writeU64(base + 8, id);
        // [scsi.drv.3] task_attr, prio and crn zero.
        m.writeU8(base + 16, 0);
        m.writeU8(base + 17, 0);
        m.writeU8(base + 18, 0);
        const cdb = new Uint8Array(cdbSize);
        cdb.set(req.cdb);
        m.write(base + VIRTIO_SCSI_CMD_HEADER_SIZE, cdb);
        m.writeU32(resp, 0);
        m.writeU8(resp + 11, 0xff);
        const out: Segment[] = [{ addr: base, len: VIRTIO_SCSI_CMD_HEADER_SIZE + cdbSize }, ...dataOut];
        const inSegs: Segment[] = [{ addr: resp, len: VIRTIO_SCSI_CMD_RESP_SIZE + senseSize }, ...dataIn];
        if (!rq.ring.add(out, inSegs, slot)) {
          rq.free.push(slot);
          if (rq.free.length < rq.pending.length) return false;
          reject(new RangeError(`scsi: a command of ${out.length + inSegs.length} segments never fits the queue`));
          return true;
        }
        this.#perLun.set(key, (this.#perLun.get(key) ?? 0) + 1);
        const release = () => {
          this.#perLun.set(key, (this.#perLun.get(key) ?? 1) - 1);
        };
        rq.pending[slot] = () => {
          release();
          const senseLen = Math.min(m.readU32(resp), senseSize);
          const sense = new Uint8Array(senseLen);
          m.read(resp + VIRTIO_SCSI_CMD_RESP_SIZE, sense);
          resolve({ response: m.readU8(resp + 11), status: m.readU8(resp + 10), statusQualifier: m.readU16(resp + 8), residual: m.readU32(resp + 4), sense, id });
        };
        rq.rejecters[slot] = (err) => {
          release();
          reject(err);
        };
        this.#scheduleKick(rq);
        return true;
      };
      // A command over its LUN's budget waits without holding back commands to other LUNs.
      if (!attempt()) rq.waiting.push({ go: attempt, reject });
    });
  }

  /** Sends a task management function (VIRTIO_SCSI_T_TMF_*); resolves with its response byte. */
  async tmf(subtype: number, addr: ScsiLunAddress, id = 0n): Promise<number> {
    const lun = encodeLun(addr);
    const r = await this.#ctrl(VIRTIO_SCSI_CTRL_TMF_SIZE, 1, (m, a) => {
      m.writeU32(a, VIRTIO_SCSI_T_TMF);
      m.writeU32(a + 4, subtype);
      m.write(a + 8, lun);
      m.writeU64(a + 16, id);
    });
    return r.response;
  }

  /** Asks which asynchronous events (VIRTIO_SCSI_EVT_ASYNC_*) the unit supports. */
  anQuery(addr: ScsiLunAddress, events: number): Promise<{ response: number; eventActual: number }> {
    return this.#an(VIRTIO_SCSI_T_AN_QUERY, addr, events);
  }

  /** Subscribes to asynchronous events; the device answers with those it will report. */
  anSubscribe(addr: ScsiLunAddress, events: number): Promise<{ response: number; eventActual: number }> {
    return this.#an(VIRTIO_SCSI_T_AN_SUBSCRIBE, addr, events);
  }

  async #an(type: number, addr: ScsiLunAddress, events: number) {
    const lun = encodeLun(addr);
    const r = await this.#ctrl(VIRTIO_SCSI_CTRL_AN_SIZE, VIRTIO_SCSI_CTRL_AN_RESP_SIZE, (m, a) => {
      m.writeU32(a, type);
      m.write(a + 4, lun);
      m.writeU32(a + 12, events >>> 0);
    });
    return { response: r.response, eventActual: r.eventActual };
  }

  #ctrl(outLen: number, inLen: number, fill: (m: GuestMemory, addr: number) => void): Promise<{ response: number; eventActual: number }> {
    if (this.#failed) return Promise.reject(this.#failed);
    const rq = this.#control;
    const m = this.memory;
    return new Promise((resolve, reject) => {
      const attempt = (): boolean => {
        const slot = rq.free.pop();
        if (slot === undefined) return false;
        const a = rq.addr(slot);
        fill(m, a);
        const resp = a + 24;
        m.writeU32(resp, 0);
        m.writeU8(resp + inLen - 1, 0xff);
        if (!rq.ring.add([{ addr: a, len: outLen }], [{ addr: resp, len: inLen }], slot)) {
          rq.free.push(slot);
          return false;
        }
        rq.pending[slot] = () => resolve({ response: m.readU8(resp + inLen - 1), eventActual: inLen > 1 ? m.readU32(resp) : 0 });
        rq.rejecters[slot] = reject;
        this.#scheduleKick(rq);
        return true;
      };
      if (rq.waiting.length > 0 || !attempt()) rq.waiting.push({ go: attempt, reject });
    });
  }

  /**
   * Call when the device's interrupt fires: completes used requests and reads events. On
   * DEVICE_NEEDS_RESET every outstanding request rejects with ScsiDriverError 'needs-reset'.
   */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) this.#fail(new ScsiDriverError('needs-reset', 'the device set DEVICE_NEEDS_RESET'));
    this.poll();
  }

  /** Completes every used request and reads every used event buffer, without waiting for an interrupt. */
  poll(): void {
    if (this.#failed) return;
    try {
      this.#pollEvents();
      for (const rq of [this.#control, ...this.#requestQueues]) {
        do {
          let used;
          while ((used = rq.ring.reap()) !== null) {
            const slot = used.token;
            const done = rq.pending[slot];
            rq.pending[slot] = undefined;
            rq.rejecters[slot] = undefined;
            rq.free.push(slot);
            done?.(slot);
          }
        } while (rq.ring.enableInterrupts());
        this.#runWaiting(rq);
      }
      // A completion frees budget for a LUN whose commands may wait on any queue.
      for (const rq of this.#requestQueues) this.#runWaiting(rq);
    } catch (err) {
      this.#fail(new ScsiDriverError('bad-device', (err as Error).message));
    }
  }

  #runWaiting(rq: SlotRing): void {
    // Entries that still cannot go stay, in order; a LUN over budget does not block other LUNs.
    const still = rq.waiting.splice(0).filter((w) => rq.free.length === 0 || !w.go());
    rq.waiting.push(...still);
  }

  #pollEvents(): void {
    const eq = this.#eventq;
    let readded = false;
    do {
      let used;
      while ((used = eq.reap()) !== null) {
        const a = this.#eventSlab + used.token * this.#eventSize;
        if (used.len >= VIRTIO_SCSI_EVENT_SIZE) {
          const raw = this.memory.readU32(a);
          const lun = new Uint8Array(8);
          this.memory.read(a + 4, lun);
          const addr = decodeLun(lun);
          const e: ScsiEvent = {
            event: (raw & ~VIRTIO_SCSI_T_EVENTS_MISSED) >>> 0,
            missed: (raw & VIRTIO_SCSI_T_EVENTS_MISSED) !== 0,
            address: typeof addr === 'object' ? addr : null,
            reason: this.memory.readU32(a + 12),
          };
          if (this.onEvent) this.onEvent(e);
          else this.events.push(e);
        }
        // Keep the eventq populated ([scsi.drv.5]).
        eq.add([], [{ addr: a, len: this.#eventSize }], used.token);
        readded = true;
      }
    } while (eq.enableInterrupts());
    if (readded) this.device.kick(VIRTIO_SCSI_EVENTQ);
  }

  /**
   * Resets the device; outstanding requests reject with ScsiDriverError 'reset' at once. Resolves
   * when the device reads status 0 ([basic.drv.7]); only then may their guest buffers be reused.
   */
  reset(opts?: ResetWaitOptions): Promise<void> {
    this.#fail(new ScsiDriverError('reset', 'the driver reset the device'));
    return this.device.resetAsync(opts);
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const rq of [this.#control, ...this.#requestQueues]) {
      for (let i = 0; i < rq.rejecters.length; i++) {
        const r = rq.rejecters[i];
        rq.pending[i] = undefined;
        rq.rejecters[i] = undefined;
        r?.(err);
      }
      for (const w of rq.waiting.splice(0)) w.reject(err);
    }
  }

  /** One notification per queue per microtask, however many requests were added. */
  #scheduleKick(rq: SlotRing): void {
    if (rq.kickScheduled) return;
    rq.kickScheduled = true;
    queueMicrotask(() => {
      rq.kickScheduled = false;
      if (!this.#failed) this.device.kick(rq.index);
    });
  }
}

const align8 = (n: number) => (n + 7) & ~7;
