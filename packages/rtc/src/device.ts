/**
 * The RTC device, device side (spec 5.23): clocks read from an injectable time source (UTC,
 * TAI, monotonic, smeared UTC), cross-timestamps against configured hardware counters, and
 * alarms (VIRTIO_RTC_F_ALARM) with notifications on the alarmq. Requests are served
 * synchronously, in ring order; a malformed request gets the spec's error status.
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
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain } from '@virtio/ring';
import { Alarms } from './alarms.js';
import { hostTimer, HostTimeSource } from './backends/host.js';
import type { RtcHwCounter } from './backends/counter.js';
import { DEFAULT_RTC_CLOCKS, readClock, validateClock, type RtcClock, type RtcClockSpec } from './clocks.js';
import { RtcRequestError } from './errors.js';
import {
  VIRTIO_RTC_ALARMQ,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_COUNTER_ARM_VCT,
  VIRTIO_RTC_COUNTER_X86_TSC,
  VIRTIO_RTC_DEVICE_ID,
  VIRTIO_RTC_F_ALARM,
  VIRTIO_RTC_MAX_REQUEST_SIZE,
  VIRTIO_RTC_MAX_RESPONSE_SIZE,
  VIRTIO_RTC_NOTIF_ALARM,
  VIRTIO_RTC_NOTIF_ALARM_SIZE,
  VIRTIO_RTC_REQUESTQ,
} from './protocol.js';
import { serveRequest, type RtcRequestTarget } from './requests.js';
import { LeapSecondTable } from './time/leap-seconds.js';
import type { RtcTimer, RtcTimeSource } from './time/source.js';

export interface RtcDeviceOptions {
  /** The clocks, by clock id (at most 65535). Default {@link DEFAULT_RTC_CLOCKS}: UTC with an alarm, TAI, monotonic. */
  readonly clocks?: readonly RtcClockSpec[];
  /** Where time comes from. Default a {@link HostTimeSource} over `leapSeconds`. */
  readonly source?: RtcTimeSource;
  /** Timers for alarm expiry. Default {@link hostTimer}. */
  readonly timer?: RtcTimer;
  /** TAI - UTC and announced leap seconds, for the UTC-like clocks. Default 37 s, none announced. */
  readonly leapSeconds?: LeapSecondTable;
  /** Hardware counters for cross-timestamping (VIRTIO_RTC_REQ_READ_CROSS), one per hw_counter. Default none. */
  readonly counters?: readonly RtcHwCounter[];
  /** Keep alarm times and enabled flags across device resets (spec 5.23.6.4, a MAY). Default false. */
  readonly retainAlarms?: boolean;
  /**
   * Implementation-specific alarm action (e.g. waking a suspended guest): called with the
   * clock id on every alarm expiration event, whatever the device status and the features.
   * Throws are ignored.
   */
  readonly onAlarm?: (clockId: number) => void;
  /** Longest wait between two checks of enabled alarms, in ms: how late a step of the host's clock past an alarm time is noticed. Default 60000. */
  readonly alarmCheckIntervalMs?: number;
  /** Maximum size of each queue (descriptors, 1..32768). Default 64. */
  readonly queueSize?: number;
  /** Ring and transport feature bits offered besides VIRTIO_F_VERSION_1 and VIRTIO_RTC_F_ALARM. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED | RING_RESET. */
  readonly ringFeatures?: bigint;
}

/** Counters since construction. */
export interface RtcStats {
  /** requestq requests answered (any status). */
  readonly requests: number;
  /** Requests answered with a status other than VIRTIO_RTC_S_OK. */
  readonly failed: number;
  /** VIRTIO_RTC_NOTIF_ALARM notifications used. */
  readonly notifications: number;
  /** Alarm expiration events. */
  readonly expirations: number;
}

export const RTC_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

export class RtcDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_RTC_DEVICE_ID;
  readonly deviceFeatures: bigint;
  /** The alarmq exists only when the device offers VIRTIO_RTC_F_ALARM. */
  readonly numQueues: number;
  /** No device configuration (spec 5.23.4). */
  readonly configSize = 0;
  /** The validated clocks, by clock id. */
  readonly clocks: readonly RtcClock[];

  readonly #source: RtcTimeSource;
  readonly #table: LeapSecondTable;
  readonly #counters: ReadonlyMap<number, RtcHwCounter>;
  readonly #alarms: Alarms;
  readonly #retain: boolean;
  readonly #onAlarm: ((id: number) => void) | undefined;
  readonly #queueSize: number;
  readonly #req = new DataView(new ArrayBuffer(VIRTIO_RTC_MAX_REQUEST_SIZE));
  readonly #reqBytes = new Uint8Array(this.#req.buffer);
  readonly #resp = new DataView(new ArrayBuffer(VIRTIO_RTC_MAX_RESPONSE_SIZE));
  readonly #respBytes = new Uint8Array(this.#resp.buffer);
  /** Last monotonic reading and counter values handed out: readings never go back. */
  #lastMonotonic = 0n;
  readonly #lastCycles = new Map<number, bigint>();
  #ctx: ActivateContext | undefined;
  #alarmNegotiated = false;
  #broken = false;
  #suspended = false;
  #requests = 0;
  #failed = 0;
  #notifications = 0;
  #expirations = 0;
  readonly #target: RtcRequestTarget;

  /** @throws RangeError for out-of-range options, an invalid clock or a duplicate or invalid counter */
  constructor(opts: RtcDeviceOptions = {}) {
    const size = opts.queueSize ?? 64;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`rtc: queueSize ${size} outside 1..32768`);
    const specs = opts.clocks ?? DEFAULT_RTC_CLOCKS;
    if (specs.length > 0xffff) throw new RangeError(`rtc: ${specs.length} clocks, at most 65535`);
    const interval = opts.alarmCheckIntervalMs ?? 60_000;
    if (!Number.isInteger(interval) || interval < 1 || interval > 0x7fffffff) throw new RangeError(`rtc: alarmCheckIntervalMs ${interval} outside 1..2^31-1`);
    this.clocks = specs.map(validateClock);
    const counters = new Map<number, RtcHwCounter>();
    for (const c of opts.counters ?? []) {
      const id = c.hwCounter;
      const ok = id === VIRTIO_RTC_COUNTER_ARM_VCT || id === VIRTIO_RTC_COUNTER_X86_TSC || (Number.isInteger(id) && id >= 0xf0 && id <= 0xfe);
      if (!ok || counters.has(id)) throw new RangeError(`rtc: counter hw_counter ${id} is invalid or given twice`);
      counters.set(id, c);
    }
    this.#counters = counters;
    this.#table = opts.leapSeconds ?? new LeapSecondTable();
    this.#source = opts.source ?? new HostTimeSource({ leapSeconds: this.#table });
    this.#retain = opts.retainAlarms ?? false;
    this.#onAlarm = opts.onAlarm;
    this.#queueSize = size;
    const capable = this.clocks.map((c) => c.alarm);
    const offersAlarm = capable.includes(true);
    this.numQueues = offersAlarm ? 2 : 1;
    // [rtc.dev.1] VIRTIO_RTC_F_ALARM exactly when some clock can have an alarm.
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? RTC_DEFAULT_RING_FEATURES) | (offersAlarm ? featureMask(VIRTIO_RTC_F_ALARM) : 0n);
    this.#alarms = new Alarms(
      capable,
      {
        read: (id) => {
          try {
            return this.#read(id);
          } catch {
            return null;
          }
        },
        expired: (id) => this.#expired(id),
      },
      opts.timer ?? hostTimer,
      interval,
    );
    this.#target = {
      clocks: this.clocks,
      alarmNegotiated: () => this.#alarmNegotiated,
      alarms: this.#alarms,
      read: (id) => this.#read(id),
      hasCounter: (hw) => this.#counters.has(hw),
      readCross: (id, hw) => this.#readCross(id, hw),
    };
  }

  get stats(): RtcStats {
    return { requests: this.#requests, failed: this.#failed, notifications: this.#notifications, expirations: this.#expirations };
  }

  /** Alarm time (ns) and enabled flag of clock `id`, or undefined when the clock has no alarm (host API, e.g. for a VMM's wake-up logic). */
  alarm(id: number): { readonly time: bigint; readonly enabled: boolean } | undefined {
    return this.#alarms.has(id) ? this.#alarms.get(id) : undefined;
  }

  /**
   * Re-checks every enabled alarm now. The device checks by itself on its timer; call this
   * after setting the host's clock to notice a step at once.
   */
  checkAlarms(): void {
    this.#alarms.check();
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < this.numQueues ? this.#queueSize : 0;
  }

  readConfig(): number {
    return 0;
  }

  writeConfig(): void {}

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#alarmNegotiated = hasFeature(ctx.features, VIRTIO_RTC_F_ALARM);
    this.#broken = false;
    this.#suspended = false;
    this.#serveRequests();
    this.#flushAlarms();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_RTC_REQUESTQ) this.#serveRequests();
    else if (queueIndex === VIRTIO_RTC_ALARMQ) this.#flushAlarms();
  }

  enableQueue(queueIndex: number): void {
    this.queueNotify(queueIndex);
  }

  /** The device holds no chain between calls: a queue reset has nothing to drop. */
  resetQueue(): void {}

  reset(): void {
    this.#ctx = undefined;
    this.#alarmNegotiated = false;
    this.#broken = false;
    this.#suspended = false;
    // [rtc.dev.57] [rtc.dev.58] [rtc.dev.65]
    this.#alarms.reset(this.#retain);
  }

  suspend(): void {
    this.#suspended = true;
  }

  resume(): void {
    this.#suspended = false;
    this.#serveRequests();
    this.#flushAlarms();
  }

  #read(id: number): bigint {
    const clock = this.clocks[id];
    const v = readClock(clock, this.#source, this.#table);
    if (clock.type !== VIRTIO_RTC_CLOCK_MONOTONIC) return v;
    if (v > this.#lastMonotonic) this.#lastMonotonic = v;
    return this.#lastMonotonic;
  }

  #readCross(id: number, hw: number): { reading: bigint; cycles: bigint } | null {
    const reading = this.#read(id);
    const counter = this.#counters.get(hw) as RtcHwCounter;
    const raw = counter.cyclesAt(this.#source.monotonicNs());
    if (raw === null) return null;
    // Never behind the last value handed out for this counter (the counter only moves forward).
    const last = this.#lastCycles.get(hw);
    const cycles = last !== undefined && last > raw ? last : raw;
    this.#lastCycles.set(hw, cycles);
    return { reading, cycles };
  }

  #expired(id: number): void {
    this.#expirations++;
    try {
      this.#onAlarm?.(id);
    } catch {
      // An implementation-specific action failing does not stop the device.
    }
    this.#flushAlarms();
  }

  /** Answers every available request, in ring order, then notifies once. */
  #serveRequests(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_RTC_REQUESTQ];
    if (!ctx || !q || this.#broken || this.#suspended) return;
    let pushed = false;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while (!this.#broken && (chain = q.pop()) !== null) {
          q.push(chain, this.#answer(ctx, chain));
          pushed = true;
        }
        if (this.#broken || !q.enableNotifications()) break;
      }
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_RTC_REQUESTQ);
  }

  /** Reads the request, serves it, writes the response. @returns bytes written */
  #answer(ctx: ActivateContext, chain: DescriptorChain): number {
    const n = Math.min(chain.readableLength, VIRTIO_RTC_MAX_REQUEST_SIZE);
    this.#reqBytes.fill(0);
    new ChainReader(ctx.memory, chain.readable).read(this.#reqBytes.subarray(0, n));
    const { status, size } = serveRequest(this.#target, this.#req, chain.readableLength, chain.writableLength, this.#resp);
    this.#requests++;
    if (status !== 0) this.#failed++;
    // [rtc.dev.11] nothing at all when not even the status fits; [rtc.dev.14] nothing past the response.
    const len = Math.min(size, chain.writableLength);
    if (len > 0) new ChainWriter(ctx.memory, chain.writable).write(this.#respBytes.subarray(0, len));
    return len;
  }

  /** Sends one VIRTIO_RTC_NOTIF_ALARM per expiration event being served, while alarmq buffers last. */
  #flushAlarms(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_RTC_ALARMQ];
    if (!ctx || !q || !this.#alarmNegotiated || this.#broken || this.#suspended) return;
    let pushed = false;
    try {
      for (let id = 0; id < this.clocks.length; id++) {
        if (!this.#alarms.serving(id)) continue;
        // [rtc.dev.55] a clock stepped back before the alarm time gets no notification.
        let now: bigint;
        try {
          now = this.#read(id);
        } catch {
          continue;
        }
        if (!this.#alarms.stillDue(id, now)) continue;
        let chain = q.pop();
        if (chain === null && q.enableNotifications()) chain = q.pop();
        if (chain === null) break;
        if (chain.readable.length > 0 || chain.writableLength < VIRTIO_RTC_NOTIF_ALARM_SIZE) {
          throw new RtcRequestError('bad-alarm-buffer', `chain ${chain.id}: ${chain.readableLength} readable, ${chain.writableLength} writable bytes`);
        }
        const w = new ChainWriter(ctx.memory, chain.writable);
        w.writeU16(VIRTIO_RTC_NOTIF_ALARM);
        for (let i = 0; i < 6; i++) w.writeU8(0);
        w.writeU16(id);
        for (let i = 0; i < 6; i++) w.writeU8(0);
        q.push(chain, VIRTIO_RTC_NOTIF_ALARM_SIZE);
        this.#alarms.served(id);
        this.#notifications++;
        pushed = true;
      }
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_RTC_ALARMQ);
  }

  #fail(ctx: ActivateContext, err: unknown): void {
    this.#broken = true;
    ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }
}
