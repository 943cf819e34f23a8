/**
 * The virtio SCSI host device, device side (spec 5.6). Commands on the request queues run
 * concurrently on their logical units and complete in any order; completions are gathered in
 * a microtask and written back with one notification decision per queue. The controlq carries
 * task management functions (which complete the commands they affect first) and asynchronous
 * notification query/subscribe; the eventq carries hotplug, parameter change and asynchronous
 * notification events.
 */
import {
  CompletionBatch,
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_SCSI,
  type ActivateContext,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import { ScsiConfigSpace, VIRTIO_SCSI_CONFIG_SIZE } from './config.js';
import { ScsiFramingError } from './errors.js';
import { hostCommand } from './host-commands.js';
import { decodeLun, encodeLun, REPORT_LUNS_WLUN } from './lun.js';
import {
  SCSI_TYPE_MMC,
  VIRTIO_SCSI_CMD_HEADER_SIZE,
  VIRTIO_SCSI_CMD_RESP_SIZE,
  VIRTIO_SCSI_CONTROLQ,
  VIRTIO_SCSI_CTRL_AN_RESP_SIZE,
  VIRTIO_SCSI_CTRL_AN_SIZE,
  VIRTIO_SCSI_CTRL_TMF_SIZE,
  VIRTIO_SCSI_EVENT_SIZE,
  VIRTIO_SCSI_EVENTQ,
  VIRTIO_SCSI_EVT_RESET_REMOVED,
  VIRTIO_SCSI_EVT_RESET_RESCAN,
  VIRTIO_SCSI_F_CHANGE,
  VIRTIO_SCSI_F_HOTPLUG,
  VIRTIO_SCSI_F_INOUT,
  VIRTIO_SCSI_F_T10_PI,
  VIRTIO_SCSI_PI_HEADER_SIZE,
  VIRTIO_SCSI_REQUESTQ_BASE,
  VIRTIO_SCSI_S_ABORTED,
  VIRTIO_SCSI_S_BAD_TARGET,
  VIRTIO_SCSI_S_FAILURE,
  VIRTIO_SCSI_S_FUNCTION_COMPLETE,
  VIRTIO_SCSI_S_FUNCTION_REJECTED,
  VIRTIO_SCSI_S_FUNCTION_SUCCEEDED,
  VIRTIO_SCSI_S_INCORRECT_LUN,
  VIRTIO_SCSI_S_OK,
  VIRTIO_SCSI_S_RESET,
  VIRTIO_SCSI_S_TARGET_FAILURE,
  VIRTIO_SCSI_T_AN_QUERY,
  VIRTIO_SCSI_T_AN_SUBSCRIBE,
  VIRTIO_SCSI_T_ASYNC_NOTIFY,
  VIRTIO_SCSI_T_EVENTS_MISSED,
  VIRTIO_SCSI_T_NO_EVENT,
  VIRTIO_SCSI_T_PARAM_CHANGE,
  VIRTIO_SCSI_T_TMF,
  VIRTIO_SCSI_T_TMF_ABORT_TASK,
  VIRTIO_SCSI_T_TMF_ABORT_TASK_SET,
  VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET,
  VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET,
  VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET,
  VIRTIO_SCSI_T_TMF_QUERY_TASK,
  VIRTIO_SCSI_T_TMF_QUERY_TASK_SET,
  VIRTIO_SCSI_T_TRANSPORT_RESET,
  type ScsiLunAddress,
} from './protocol.js';
import type { ScsiCommand, ScsiCommandResult, ScsiLogicalUnit } from './target.js';

/** Ring features offered by default. */
export const SCSI_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

export interface ScsiDeviceOptions {
  /** Logical units present at start. */
  readonly units?: readonly { readonly target: number; readonly lun: number; readonly unit: ScsiLogicalUnit }[];
  /** Request queues (num_queues), default 1. */
  readonly numQueues?: number;
  /** Maximum size of every queue, default 256. */
  readonly queueSize?: number;
  /** cmd_per_lun, default 128. */
  readonly cmdPerLun?: number;
  /** max_sectors hint, default 0xffff. */
  readonly maxSectors?: number;
  /** max_target (default 255) and max_lun (default 16383): units must lie within them. */
  readonly maxTarget?: number;
  readonly maxLun?: number;
  /** Device-specific features to offer (default INOUT, HOTPLUG and CHANGE; T10_PI only on request). */
  readonly inout?: boolean;
  readonly hotplug?: boolean;
  readonly change?: boolean;
  /** Offers VIRTIO_SCSI_F_T10_PI: the framing carries pi_out/pi_in to the logical units. */
  readonly t10pi?: boolean;
  /** Ring features offered (default {@link SCSI_DEFAULT_RING_FEATURES}). */
  readonly ringFeatures?: bigint;
}

/** A command handed to a logical unit and not completed yet. */
interface Active {
  readonly ctx: ActivateContext;
  readonly q: DeviceQueue;
  readonly qi: number;
  readonly key: number;
  readonly id: bigint;
  /** Response forced by a TMF, unplug or reset (-1: the unit's own result). */
  override: number;
  settled: Promise<void>;
}


const unitKey = (target: number, lun: number) => target * 16384 + lun;
const u32 = (v: number, what: string, max = 0xffffffff): number => {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`scsi: ${what} ${v} outside 0..${max}`);
  return v;
};

export class ScsiDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_SCSI;
  readonly deviceFeatures: bigint;
  readonly numQueues: number;
  readonly configSize = VIRTIO_SCSI_CONFIG_SIZE;
  readonly #queueSize: number;
  readonly #config: ScsiConfigSpace;
  readonly #maxTarget: number;
  readonly #maxLun: number;
  readonly #units = new Map<number, ScsiLogicalUnit>();
  /** AN subscriptions per unit key. */
  readonly #subscribed = new Map<number, number>();
  readonly #active = new Set<Active>();
  #ctx: ActivateContext | undefined;
  #queues: (DeviceQueue | undefined)[] = [];
  readonly #batch: CompletionBatch;
  #features = 0n;
  #eventsMissed = false;

  /** @throws RangeError for options outside their fields' ranges or units outside max_target/max_lun */
  constructor(opts: ScsiDeviceOptions = {}) {
    const nq = u32(opts.numQueues ?? 1, 'num_queues', 0xfffd);
    if (nq < 1) throw new RangeError('scsi: num_queues must be at least 1');
    this.numQueues = VIRTIO_SCSI_REQUESTQ_BASE + nq;
    this.#queueSize = u32(opts.queueSize ?? 256, 'queue size', 32768);
    if (this.#queueSize < 3) throw new RangeError('scsi: queue size must be at least 3');
    this.#maxTarget = u32(opts.maxTarget ?? 255, 'max_target', 255);
    this.#maxLun = u32(opts.maxLun ?? 16383, 'max_lun', 16383);
    this.#config = new ScsiConfigSpace({
      numQueues: nq,
      segMax: this.#queueSize - 2,
      maxSectors: u32(opts.maxSectors ?? 0xffff, 'max_sectors'),
      cmdPerLun: u32(opts.cmdPerLun ?? 128, 'cmd_per_lun'),
      maxTarget: this.#maxTarget,
      maxLun: this.#maxLun,
    });
    let f = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? SCSI_DEFAULT_RING_FEATURES);
    if (opts.inout ?? true) f |= featureMask(VIRTIO_SCSI_F_INOUT);
    if (opts.hotplug ?? true) f |= featureMask(VIRTIO_SCSI_F_HOTPLUG);
    if (opts.change ?? true) f |= featureMask(VIRTIO_SCSI_F_CHANGE);
    if (opts.t10pi) f |= featureMask(VIRTIO_SCSI_F_T10_PI);
    this.deviceFeatures = f;
    this.#batch = new CompletionBatch(this.numQueues, { ctx: () => this.#ctx, queue: (i) => this.#queues[i] });
    for (const u of opts.units ?? []) this.#add(u, u.unit);
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < this.numQueues ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#config.write(offset, width, value);
  }

  validateFeatures(features: bigint): boolean {
    this.#features = features;
    return true;
  }

  activate(ctx: ActivateContext): void {
    this.#features = ctx.features;
    this.#ctx = ctx;
    this.#queues = ctx.queues.slice();
    this.#eventsMissed = false;
    for (let i = 0; i < this.numQueues; i++) if (i !== VIRTIO_SCSI_EVENTQ) this.#drain(i);
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_SCSI_EVENTQ) this.#eventBuffersAdded();
    else this.#drain(queueIndex);
  }

  enableQueue(queueIndex: number, queue: DeviceQueue): void {
    if (!this.#ctx || queueIndex < 0 || queueIndex >= this.numQueues) return;
    this.#queues[queueIndex] = queue;
    this.queueNotify(queueIndex);
  }

  /** Commands of the queue complete into nothing; @returns a promise settling when their units finished with the guest buffers. */
  resetQueue(queueIndex: number): void | Promise<void> {
    this.#queues[queueIndex] = undefined;
    const waits = [...this.#active].filter((a) => a.qi === queueIndex).map((a) => a.settled);
    return waits.length > 0 ? Promise.all(waits).then(() => undefined) : undefined;
  }

  /**
   * Device reset: commands in flight are dropped (their units are told nothing but their
   * results are never written), every unit gets a reset, sense_size and cdb_size return to
   * their defaults ([scsi.dev.1]). @returns a promise settling when no unit still holds guest buffers
   */
  reset(): void | Promise<void> {
    this.#ctx = undefined;
    this.#queues = [];
    this.#batch.clear();
    this.#features = 0n;
    this.#eventsMissed = false;
    this.#subscribed.clear();
    this.#config.reset();
    for (const u of this.#units.values()) u.reset?.();
    const waits = [...this.#active].map((a) => a.settled);
    return waits.length > 0 ? Promise.all(waits).then(() => undefined) : undefined;
  }

  /** Commands handed to units and not completed yet. */
  get inFlight(): number {
    return this.#active.size;
  }

  /** The unit at `addr`, if any. */
  unit(addr: ScsiLunAddress): ScsiLogicalUnit | undefined {
    return this.#units.get(unitKey(addr.target, addr.lun));
  }

  /**
   * Hot-plugs `unit` at `addr`: with VIRTIO_SCSI_F_HOTPLUG negotiated the driver receives a
   * TRANSPORT_RESET/RESCAN event; the target's other units report REPORTED LUNS DATA HAS CHANGED.
   * @throws RangeError when the address is taken or outside max_target/max_lun
   */
  plug(addr: ScsiLunAddress, unit: ScsiLogicalUnit): void {
    this.#add(addr, unit);
    for (const [k, u] of this.#units) if (Math.floor(k / 16384) === addr.target && u !== unit) u.unitAttention?.(0x3f, 0x0e);
    // [scsi.dev.9] RESCAN only with VIRTIO_SCSI_F_HOTPLUG.
    if (hasFeature(this.#features, VIRTIO_SCSI_F_HOTPLUG)) this.#event(VIRTIO_SCSI_T_TRANSPORT_RESET, addr, VIRTIO_SCSI_EVT_RESET_RESCAN);
  }

  /**
   * Hot-unplugs the unit at `addr`: its commands in flight complete with VIRTIO_SCSI_S_FAILURE
   * once the unit finished with them ([scsi.dev.7]); with VIRTIO_SCSI_F_HOTPLUG the driver
   * receives a TRANSPORT_RESET/REMOVED event. @returns false when no unit was there
   */
  unplug(addr: ScsiLunAddress): boolean {
    const key = unitKey(addr.target, addr.lun);
    if (!this.#units.delete(key)) return false;
    this.#subscribed.delete(key);
    for (const a of this.#active) if (a.key === key && a.override < 0) a.override = VIRTIO_SCSI_S_FAILURE;
    if (hasFeature(this.#features, VIRTIO_SCSI_F_HOTPLUG)) this.#event(VIRTIO_SCSI_T_TRANSPORT_RESET, addr, VIRTIO_SCSI_EVT_RESET_REMOVED);
    return true;
  }

  /**
   * A parameter of the unit at `addr` changed (asc/ascq, e.g. 2Ah/09h capacity data has
   * changed): the unit gets the unit attention; with VIRTIO_SCSI_F_CHANGE the driver receives
   * a PARAM_CHANGE event, never for MMC units ([scsi.dev.10]).
   */
  paramChanged(addr: ScsiLunAddress, asc: number, ascq: number): void {
    const unit = this.unit(addr);
    if (!unit) return;
    unit.unitAttention?.(asc, ascq);
    if (unit.peripheralType === SCSI_TYPE_MMC || !hasFeature(this.#features, VIRTIO_SCSI_F_CHANGE)) return;
    this.#event(VIRTIO_SCSI_T_PARAM_CHANGE, addr, (asc & 0xff) | ((ascq & 0xff) << 8));
  }

  /** An asynchronous event on the unit at `addr`: reported when the driver subscribed to any of `events`. */
  asyncNotify(addr: ScsiLunAddress, events: number): void {
    const reason = (this.#subscribed.get(unitKey(addr.target, addr.lun)) ?? 0) & events;
    if (reason !== 0) this.#event(VIRTIO_SCSI_T_ASYNC_NOTIFY, addr, reason);
  }

  #add(addr: ScsiLunAddress, unit: ScsiLogicalUnit): void {
    const { target, lun } = addr;
    u32(target, 'target', this.#maxTarget);
    u32(lun, 'lun', this.#maxLun);
    const key = unitKey(target, lun);
    if (this.#units.has(key)) throw new RangeError(`scsi: target ${target} lun ${lun} is taken`);
    this.#units.set(key, unit);
  }

  #targetExists(target: number): boolean {
    for (const k of this.#units.keys()) if (Math.floor(k / 16384) === target) return true;
    return false;
  }

  #lunsOf(target: number): number[] {
    const out: number[] = [];
    for (const k of this.#units.keys()) if (Math.floor(k / 16384) === target) out.push(k % 16384);
    return out.sort((a, b) => a - b);
  }

  #drain(qi: number): void {
    const ctx = this.#ctx;
    const q = this.#queues[qi];
    if (!ctx || !q) return;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) {
          if (qi === VIRTIO_SCSI_CONTROLQ) this.#control(ctx, q, qi, chain);
          else this.#command(ctx, q, qi, chain);
        }
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      ctx.needsReset(err as Error);
    }
  }

  /** A request queue chain: virtio_scsi_req_cmd. */
  #command(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain): void {
    const m = ctx.memory;
    if (chain.writableLength < VIRTIO_SCSI_CMD_RESP_SIZE) {
      this.#batch.add({ ctx, q, qi, chain, write: () => 0 });
      ctx.needsReset(new ScsiFramingError(chain.id, 'no room for the response fields'));
      return;
    }
    const senseSize = this.#config.senseSize;
    const cdbSize = this.#config.cdbSize;
    const pi = hasFeature(this.#features, VIRTIO_SCSI_F_T10_PI);
    const fail = (response: number) => this.#batch.add({ ctx, q, qi, chain, write: () => writeResponse(m, chain, response, 0, 0, 0, undefined, senseSize) });
    const headerSize = VIRTIO_SCSI_CMD_HEADER_SIZE + cdbSize + (pi ? VIRTIO_SCSI_PI_HEADER_SIZE : 0);
    if (chain.readableLength < headerSize || chain.writableLength < VIRTIO_SCSI_CMD_RESP_SIZE + senseSize) return fail(VIRTIO_SCSI_S_FAILURE);
    const r = new ChainReader(m, chain.readable);
    const lunBytes = r.readBytes(8);
    const id = r.readU64();
    const taskAttr = r.readU8();
    const prio = r.readU8();
    const crn = r.readU8();
    const cdb = r.readBytes(cdbSize);
    const piOutLength = pi ? r.readU32() : 0;
    const piInLength = pi ? r.readU32() : 0;
    const inRoom = chain.writableLength - VIRTIO_SCSI_CMD_RESP_SIZE - senseSize;
    if (piOutLength > r.remaining || piInLength > inRoom) return fail(VIRTIO_SCSI_S_FAILURE);
    const piOut = r.readView(piOutLength);
    const dataOutLength = r.remaining;
    const dataInLength = inRoom - piInLength;
    // Bidirectional data without VIRTIO_SCSI_F_INOUT: FAILURE at once ([scsi.dev.6]).
    if (dataOutLength > 0 && dataInLength > 0 && !hasFeature(this.#features, VIRTIO_SCSI_F_INOUT)) return fail(VIRTIO_SCSI_S_FAILURE);
    const dataOut = r.readView(dataOutLength);
    const w = new ChainWriter(m, chain.writable);
    w.skip(VIRTIO_SCSI_CMD_RESP_SIZE + senseSize);
    const piIn = w.writeView(piInLength);
    const dataIn = w.writeView(dataInLength);
    const cmd: ScsiCommand = { cdb, id, taskAttr, prio, crn, dataOut, dataOutLength, dataIn, dataInLength, piOut, piIn };

    const addr = decodeLun(lunBytes);
    if (addr === null) return fail(VIRTIO_SCSI_S_BAD_TARGET);
    const target = addr === REPORT_LUNS_WLUN ? 0 : addr.target;
    const key = addr === REPORT_LUNS_WLUN ? -1 : unitKey(addr.target, addr.lun);
    const unit = this.#units.get(key);
    if (!unit) {
      if (addr !== REPORT_LUNS_WLUN && !this.#targetExists(target)) return fail(VIRTIO_SCSI_S_BAD_TARGET);
      const res = hostCommand(cmd, this.#lunsOf(target), addr === REPORT_LUNS_WLUN);
      this.#batch.add({ ctx, q, qi, chain, write: () => writeResult(m, chain, cmd, res, senseSize, piInLength) });
      return;
    }
    if (cdb[0] === 0xa0) {
      const res = hostCommand(cmd, this.#lunsOf(target), true);
      this.#batch.add({ ctx, q, qi, chain, write: () => writeResult(m, chain, cmd, res, senseSize, piInLength) });
      return;
    }
    const a: Active = { ctx, q, qi, key, id, override: -1, settled: Promise.resolve() };
    this.#active.add(a);
    a.settled = (async () => {
      let res: ScsiCommandResult;
      try {
        res = await unit.execute(cmd);
      } catch {
        res = { response: VIRTIO_SCSI_S_TARGET_FAILURE, status: 0 };
      }
      this.#active.delete(a);
      if (a.override >= 0) res = { response: a.override, status: 0 };
      this.#batch.add({ ctx, q, qi, chain, write: () => writeResult(m, chain, cmd, res, senseSize, piInLength) });
    })();
  }

  /** A controlq chain: TMF or AN query/subscribe. */
  #control(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain): void {
    const m = ctx.memory;
    const w = chain.writable;
    if (chain.writableLength < 1) {
      this.#batch.add({ ctx, q, qi, chain, write: () => 0 });
      ctx.needsReset(new ScsiFramingError(chain.id, 'no room for the response byte'));
      return;
    }
    const respond = (response: number, eventActual?: number) =>
      this.#batch.add({
        ctx,
        q,
        qi,
        chain,
        write: () => {
          const cw = new ChainWriter(m, w);
          if (eventActual !== undefined) cw.writeU32(eventActual);
          cw.writeU8(response);
          return cw.written;
        },
      });
    if (chain.readableLength < 4) return respond(VIRTIO_SCSI_S_FAILURE);
    const r = new ChainReader(m, chain.readable);
    const type = r.readU32();
    if (type === VIRTIO_SCSI_T_AN_QUERY || type === VIRTIO_SCSI_T_AN_SUBSCRIBE) {
      if (chain.readableLength < VIRTIO_SCSI_CTRL_AN_SIZE || chain.writableLength < VIRTIO_SCSI_CTRL_AN_RESP_SIZE) return respond(VIRTIO_SCSI_S_FAILURE);
      const addr = decodeLun(r.readBytes(8));
      const requested = r.readU32();
      if (addr === null || addr === REPORT_LUNS_WLUN || !this.#targetExists(addr.target)) return respond(VIRTIO_SCSI_S_BAD_TARGET, 0);
      const key = unitKey(addr.target, addr.lun);
      const unit = this.#units.get(key);
      if (!unit) return respond(VIRTIO_SCSI_S_INCORRECT_LUN, 0);
      const actual = requested & (unit.asyncEvents ?? 0);
      if (type === VIRTIO_SCSI_T_AN_SUBSCRIBE) this.#subscribed.set(key, actual);
      return respond(VIRTIO_SCSI_S_OK, actual);
    }
    if (type !== VIRTIO_SCSI_T_TMF || chain.readableLength < VIRTIO_SCSI_CTRL_TMF_SIZE) return respond(VIRTIO_SCSI_S_FAILURE);
    const subtype = r.readU32();
    const addr = decodeLun(r.readBytes(8));
    const id = r.readU64();
    if (addr === null || addr === REPORT_LUNS_WLUN || !this.#targetExists(addr.target)) return respond(VIRTIO_SCSI_S_BAD_TARGET);
    const key = unitKey(addr.target, addr.lun);
    const unit = this.#units.get(key);
    if (subtype === VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET) {
      const hit = [...this.#active].filter((a) => Math.floor(a.key / 16384) === addr.target);
      for (const [k, u] of this.#units) if (Math.floor(k / 16384) === addr.target) u.reset?.();
      return this.#tmfAfter(hit, VIRTIO_SCSI_S_RESET, () => respond(VIRTIO_SCSI_S_FUNCTION_COMPLETE));
    }
    if (!unit) return respond(VIRTIO_SCSI_S_INCORRECT_LUN);
    const onUnit = [...this.#active].filter((a) => a.key === key);
    switch (subtype) {
      case VIRTIO_SCSI_T_TMF_ABORT_TASK:
        return this.#tmfAfter(
          onUnit.filter((a) => a.id === id),
          VIRTIO_SCSI_S_ABORTED,
          () => respond(VIRTIO_SCSI_S_FUNCTION_COMPLETE),
        );
      case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
      case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
        return this.#tmfAfter(onUnit, VIRTIO_SCSI_S_ABORTED, () => respond(VIRTIO_SCSI_S_FUNCTION_COMPLETE));
      case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
        unit.reset?.();
        return this.#tmfAfter(onUnit, VIRTIO_SCSI_S_RESET, () => respond(VIRTIO_SCSI_S_FUNCTION_COMPLETE));
      case VIRTIO_SCSI_T_TMF_QUERY_TASK:
        return respond(onUnit.some((a) => a.id === id) ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED : VIRTIO_SCSI_S_FUNCTION_COMPLETE);
      case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
        return respond(onUnit.length > 0 ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED : VIRTIO_SCSI_S_FUNCTION_COMPLETE);
      default:
        // CLEAR ACA (no ACA support) and unknown subtypes.
        return respond(VIRTIO_SCSI_S_FUNCTION_REJECTED);
    }
  }

  /**
   * Forces `response` on the affected commands and completes the TMF only after they were all
   * completed, so their used elements precede the TMF's in the same or an earlier batch.
   */
  #tmfAfter(affected: Active[], response: number, complete: () => void): void {
    for (const a of affected) if (a.override < 0) a.override = response;
    if (affected.length === 0) return complete();
    void Promise.all(affected.map((a) => a.settled)).then(complete);
  }

  /** The driver added eventq buffers: report lost events at once ([scsi.dev.8]). */
  #eventBuffersAdded(): void {
    if (this.#eventsMissed) this.#event(VIRTIO_SCSI_T_NO_EVENT, undefined, 0);
  }

  /** Writes one event into the next eventq buffer; with none, remembers that events were lost. */
  #event(event: number, addr: ScsiLunAddress | undefined, reason: number): void {
    const ctx = this.#ctx;
    const q = this.#queues[VIRTIO_SCSI_EVENTQ];
    if (!ctx || !q) return;
    try {
      let chain: DescriptorChain | null;
      while ((chain = q.pop()) !== null) {
        if (chain.writableLength >= VIRTIO_SCSI_EVENT_SIZE) break;
        // Too short for struct virtio_scsi_event: used at once, written nothing.
        q.push(chain, 0);
      }
      if (chain === null) {
        // [scsi.dev.8] the next event carries VIRTIO_SCSI_T_EVENTS_MISSED.
        this.#eventsMissed = true;
        if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_SCSI_EVENTQ);
        return;
      }
      const w = new ChainWriter(ctx.memory, chain.writable);
      w.writeU32((event | (this.#eventsMissed ? VIRTIO_SCSI_T_EVENTS_MISSED : 0)) >>> 0);
      w.write(addr ? encodeLun(addr) : new Uint8Array(8));
      w.writeU32(reason);
      this.#eventsMissed = false;
      q.push(chain, VIRTIO_SCSI_EVENT_SIZE);
      if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_SCSI_EVENTQ);
    } catch (err) {
      ctx.needsReset(err as Error);
    }
  }
}

/**
 * Writes sense_len, residual, status_qualifier, status, response and sense at the start of the
 * device-writable part. @returns the bytes written there
 */
function writeResponse(
  m: ActivateContext['memory'],
  chain: DescriptorChain,
  response: number,
  status: number,
  residual: number,
  qualifier: number,
  sense: Uint8Array | undefined,
  senseSize: number,
): number {
  const w = new ChainWriter(m, chain.writable);
  const senseLen = sense ? Math.min(sense.length, senseSize) : 0;
  w.writeU32(senseLen);
  w.writeU32(residual >>> 0);
  w.writeU16(qualifier & 0xffff);
  w.writeU8(status & 0xff);
  w.writeU8(response & 0xff);
  if (sense && senseLen > 0) w.write(sense.subarray(0, senseLen));
  return w.written;
}

/** Writes a unit's result; residual = data length - bytes transferred (spec 5.6.6.1). */
function writeResult(
  m: ActivateContext['memory'],
  chain: DescriptorChain,
  cmd: ScsiCommand,
  res: ScsiCommandResult,
  senseSize: number,
  piInLength: number,
): number {
  const response = res.response ?? VIRTIO_SCSI_S_OK;
  const ok = response === VIRTIO_SCSI_S_OK;
  const inWritten = ok ? Math.min(Math.max(0, res.dataInWritten ?? 0), cmd.dataInLength) : 0;
  const outRead = ok ? Math.min(Math.max(0, res.dataOutRead ?? 0), cmd.dataOutLength) : 0;
  const residual = cmd.dataOutLength + cmd.dataInLength - outRead - inWritten;
  const n = writeResponse(m, chain, response, ok ? res.status : 0, residual, res.statusQualifier ?? 0, ok ? res.sense : undefined, senseSize);
  return inWritten > 0 ? VIRTIO_SCSI_CMD_RESP_SIZE + senseSize + piInLength + inWritten : n;
}
