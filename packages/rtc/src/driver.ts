/**
 * The RTC device, driver side (spec 5.23): discovers the clocks, reads them (plain and
 * cross-timestamped), sets and reads alarms, and receives alarm notifications on the alarmq.
 * Every request is one device-readable buffer with the request and one device-writable buffer
 * of exactly the response's size; a response is decoded only when its status is VIRTIO_RTC_S_OK.
 */
import {
  type DriverDevice,
  featureMask,
  hasFeature,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
  type QueueRequest,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import {
  isDriverHwCounter,
  RTC_MESSAGE_SIZES,
  U64_MAX,
  VIRTIO_RTC_ALARMQ,
  VIRTIO_RTC_F_ALARM,
  VIRTIO_RTC_FLAG_ALARM_CAP,
  VIRTIO_RTC_FLAG_ALARM_ENABLED,
  VIRTIO_RTC_FLAG_CROSS_CAP,
  VIRTIO_RTC_MAX_REQUEST_SIZE,
  VIRTIO_RTC_MAX_RESPONSE_SIZE,
  VIRTIO_RTC_NOTIF_ALARM,
  VIRTIO_RTC_NOTIF_ALARM_SIZE,
  VIRTIO_RTC_REQ_CFG,
  VIRTIO_RTC_REQ_CLOCK_CAP,
  VIRTIO_RTC_REQ_CROSS_CAP,
  VIRTIO_RTC_REQ_READ,
  VIRTIO_RTC_REQ_READ_ALARM,
  VIRTIO_RTC_REQ_READ_CROSS,
  VIRTIO_RTC_REQ_SET_ALARM,
  VIRTIO_RTC_REQ_SET_ALARM_ENABLED,
  VIRTIO_RTC_REQUESTQ,
  VIRTIO_RTC_S_OK,
} from './protocol.js';

export interface RtcDriverOptions {
  /** Guest memory holding the rings and buffers. */
  readonly memory: GuestMemory;
  /** Allocates the rings, the alarmq buffers and (freed after use) request buffers. */
  readonly allocator: GuestAllocator;
  /** Requested queue sizes (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** Ring features the driver accepts when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
  /** Negotiate VIRTIO_RTC_F_ALARM when the device offers it. Default true. */
  readonly alarm?: boolean;
  /** alarmq buffers kept available (1..queue size). Default min(8, queue size). */
  readonly alarmBuffers?: number;
  /** Called for every alarm notification, with the clock read after it (spec 5.23.6.4.2: the time is not assumed). */
  readonly onAlarm?: (alarm: RtcAlarmNotification) => void;
}

/** One clock as VIRTIO_RTC_REQ_CLOCK_CAP describes it. */
export interface RtcClockInfo {
  /** Clock id (0..num_clocks-1). */
  readonly id: number;
  /** VIRTIO_RTC_CLOCK_* type. */
  readonly type: number;
  /** VIRTIO_RTC_SMEAR_* variant (UNSPECIFIED for all but UTC_SMEARED clocks). */
  readonly leapSecondSmearing: number;
  /** The clock supports an alarm (VIRTIO_RTC_FLAG_ALARM_CAP, only with VIRTIO_RTC_F_ALARM negotiated). */
  readonly alarm: boolean;
}

/** A VIRTIO_RTC_NOTIF_ALARM and the clock's reading right after it. */
export interface RtcAlarmNotification {
  readonly clockId: number;
  /** The clock's reading in ns, taken after the notification; undefined when the read failed. */
  readonly clockReading: bigint | undefined;
}

/** A cross-timestamp (VIRTIO_RTC_REQ_READ_CROSS). */
export interface RtcCrossReading {
  /** Clock reading, ns. */
  readonly clockReading: bigint;
  /** The hardware counter's value at that instant, in counter cycles. */
  readonly counterCycles: bigint;
}

/** An alarm (VIRTIO_RTC_REQ_READ_ALARM). */
export interface RtcAlarm {
  /** Alarm time, ns in the clock's time scale. */
  readonly alarmTime: bigint;
  readonly enabled: boolean;
}

/** The device answered a request with a status other than VIRTIO_RTC_S_OK. */
export class RtcStatusError extends Error {
  override readonly name = 'RtcStatusError';
  constructor(
    /** VIRTIO_RTC_S_EOPNOTSUPP, _ENODEV, _EINVAL, _EIO or another non-OK value. */
    readonly status: number,
    readonly msgType: number,
  ) {
    super(`rtc: request 0x${msgType.toString(16)} failed with status ${status}`);
  }
}

/** The device was reset or needs a reset, sent a short response, or a request needs a feature not negotiated. */
export class RtcDriverError extends Error {
  override readonly name = 'RtcDriverError';
}

/** Request area (request at 0, response at {@link RESP_AT}) per in-flight request, in bytes. */
const RESP_AT = VIRTIO_RTC_MAX_REQUEST_SIZE;
const BUFFER_SIZE = VIRTIO_RTC_MAX_REQUEST_SIZE + VIRTIO_RTC_MAX_RESPONSE_SIZE;
const ZEROES = new Uint8Array(BUFFER_SIZE);

interface Pending {
  addr: number;
  readonly msgType: number;
  readonly fill: (m: GuestMemory, addr: number) => void;
  readonly decode: (m: GuestMemory, resp: number) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

export class RtcDriver {
  readonly device: DriverDevice;
  /** VIRTIO_RTC_F_ALARM was negotiated. */
  readonly alarmNegotiated: boolean;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #onAlarm: ((a: RtcAlarmNotification) => void) | undefined;
  readonly #alarmBuffers: number;
  readonly #backlog: Pending[] = [];
  readonly #inFlight = new Set<Pending>();
  /** The alarmq buffers, one block, once {@link start} made them available. */
  #alarmBlock: number | undefined;
  readonly #received: RtcAlarmNotification[] = [];
  #clocks: readonly RtcClockInfo[] = [];
  #closed: Error | undefined;

  private constructor(device: DriverDevice, opts: RtcDriverOptions, alarmBuffers: number) {
    this.device = device;
    this.alarmNegotiated = hasFeature(device.features, VIRTIO_RTC_F_ALARM);
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
    this.#onAlarm = opts.onAlarm;
    this.#alarmBuffers = alarmBuffers;
  }

  /**
   * Initializes the RTC device behind `transport` (spec 3.1.1): negotiates VIRTIO_RTC_F_ALARM
   * (unless `alarm: false`), sets up the requestq and, with alarms, the alarmq (left empty until
   * {@link start}). Wire the transport's interrupt to {@link handleInterrupt}, then call {@link start}.
   * @throws DeviceInitError from the initialization sequence; RangeError for a bad alarmBuffers
   */
  static initialize(transport: DriverTransport, opts: RtcDriverOptions): RtcDriver {
    const wantAlarm = opts.alarm ?? true;
    // The alarmq is set up only when VIRTIO_RTC_F_ALARM is offered (and wanted): the queue list
    // is completed at step 4, once the offered features are known.
    const queues: QueueRequest[] = [{ index: VIRTIO_RTC_REQUESTQ, size: opts.queueSize }];
    let alarmBuffers = 0;
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: (wantAlarm ? featureMask(VIRTIO_RTC_F_ALARM) : 0n) | (opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)),
      checkConfig: (_config, offered) => {
        if (wantAlarm && hasFeature(offered, VIRTIO_RTC_F_ALARM)) queues.push({ index: VIRTIO_RTC_ALARMQ, size: opts.queueSize });
        return true;
      },
      queues,
      setup: (qs) => {
        const aq = qs[VIRTIO_RTC_ALARMQ];
        if (!aq) return;
        const n = opts.alarmBuffers ?? Math.min(8, aq.config.size);
        if (!Number.isInteger(n) || n < 1 || n > aq.config.size) throw new RangeError(`rtc: alarmBuffers ${n} outside 1..${aq.config.size}`);
        alarmBuffers = n;
      },
    });
    return new RtcDriver(device, opts, alarmBuffers);
  }

  /** The clocks found by {@link start}. */
  get clocks(): readonly RtcClockInfo[] {
    return this.#clocks;
  }

  /** Requests on the ring or waiting for room. */
  get pending(): number {
    return this.#inFlight.size + this.#backlog.length;
  }

  /**
   * Discovers the clocks (VIRTIO_RTC_REQ_CFG, then VIRTIO_RTC_REQ_CLOCK_CAP for each). With
   * alarms negotiated, first clears every alarm left from before the reset (SET_ALARM with time
   * 0 and flags 0, unless `clearAlarms: false`), then makes the alarmq buffers available
   * (spec 5.23.6.4: no stale notification, no leaked alarm time).
   * @returns the clocks; rejects with RtcStatusError / RtcDriverError
   */
  async start(opts: { readonly clearAlarms?: boolean } = {}): Promise<readonly RtcClockInfo[]> {
    const n = await this.numClocks();
    const clocks: RtcClockInfo[] = [];
    for (let id = 0; id < n; id++) clocks.push(await this.clockCap(id));
    this.#clocks = clocks;
    if (this.alarmNegotiated) {
      if (opts.clearAlarms ?? true) for (const c of clocks) if (c.alarm) await this.setAlarm(c.id, 0n, false);
      this.#fillAlarmq();
    }
    return clocks;
  }

  /** VIRTIO_RTC_REQ_CFG: the number of clocks. */
  numClocks(): Promise<number> {
    return this.#request(VIRTIO_RTC_REQ_CFG, () => {}, (m, r) => m.readU16(r + 8));
  }

  /** VIRTIO_RTC_REQ_CLOCK_CAP. @throws RangeError for a clock id outside 0..65535 */
  clockCap(clockId: number): Promise<RtcClockInfo> {
    checkU16(clockId);
    return this.#request(
      VIRTIO_RTC_REQ_CLOCK_CAP,
      (m, a) => m.writeU16(a + 8, clockId),
      (m, r) => ({
        id: clockId,
        type: m.readU8(r + 8),
        leapSecondSmearing: m.readU8(r + 9),
        // [rtc.drv.5] ALARM_CAP means something only with VIRTIO_RTC_F_ALARM; other bits are not ours.
        alarm: this.alarmNegotiated && (m.readU8(r + 10) & VIRTIO_RTC_FLAG_ALARM_CAP) !== 0,
      }),
    );
  }

  /**
   * VIRTIO_RTC_REQ_CROSS_CAP: whether the clock supports cross-timestamps with `hwCounter`.
   * @throws RangeError for a hw_counter the spec does not allow (defined ids, 0xF0..0xFE)
   */
  crossCap(clockId: number, hwCounter: number): Promise<boolean> {
    checkU16(clockId);
    checkCounter(hwCounter);
    return this.#request(
      VIRTIO_RTC_REQ_CROSS_CAP,
      (m, a) => {
        m.writeU16(a + 8, clockId);
        m.writeU8(a + 10, hwCounter);
      },
      (m, r) => (m.readU8(r + 8) & VIRTIO_RTC_FLAG_CROSS_CAP) !== 0,
    );
  }

  /** VIRTIO_RTC_REQ_READ: the clock's reading, ns. */
  read(clockId: number): Promise<bigint> {
    checkU16(clockId);
    return this.#request(VIRTIO_RTC_REQ_READ, (m, a) => m.writeU16(a + 8, clockId), (m, r) => m.readU64(r + 8));
  }

  /** VIRTIO_RTC_REQ_READ_CROSS. @throws RangeError for a hw_counter the spec does not allow */
  readCross(clockId: number, hwCounter: number): Promise<RtcCrossReading> {
    checkU16(clockId);
    checkCounter(hwCounter);
    return this.#request(
      VIRTIO_RTC_REQ_READ_CROSS,
      (m, a) => {
        m.writeU16(a + 8, clockId);
        m.writeU8(a + 10, hwCounter);
      },
      (m, r) => ({ clockReading: m.readU64(r + 8), counterCycles: m.readU64(r + 16) }),
    );
  }

  /** VIRTIO_RTC_REQ_READ_ALARM. Rejects with RtcDriverError without VIRTIO_RTC_F_ALARM. */
  readAlarm(clockId: number): Promise<RtcAlarm> {
    checkU16(clockId);
    return this.#alarmRequest(
      VIRTIO_RTC_REQ_READ_ALARM,
      (m, a) => m.writeU16(a + 8, clockId),
      (m, r) => ({ alarmTime: m.readU64(r + 8), enabled: (m.readU8(r + 16) & VIRTIO_RTC_FLAG_ALARM_ENABLED) !== 0 }),
    );
  }

  /**
   * VIRTIO_RTC_REQ_SET_ALARM: alarm time in ns of the clock's time scale (0..2^64-1), enabled or not.
   * @throws RangeError for a time outside the u64 range; rejects with RtcDriverError without VIRTIO_RTC_F_ALARM
   */
  setAlarm(clockId: number, alarmTimeNs: bigint, enabled: boolean): Promise<void> {
    checkU16(clockId);
    if (alarmTimeNs < 0n || alarmTimeNs > U64_MAX) throw new RangeError(`rtc: alarm time ${alarmTimeNs} outside the u64 range`);
    return this.#alarmRequest(
      VIRTIO_RTC_REQ_SET_ALARM,
      (m, a) => {
        m.writeU64(a + 8, alarmTimeNs);
        m.writeU16(a + 16, clockId);
        m.writeU8(a + 18, enabled ? VIRTIO_RTC_FLAG_ALARM_ENABLED : 0);
      },
      () => undefined,
    );
  }

  /** VIRTIO_RTC_REQ_SET_ALARM_ENABLED: enables or disables the alarm, keeping its time. */
  setAlarmEnabled(clockId: number, enabled: boolean): Promise<void> {
    checkU16(clockId);
    return this.#alarmRequest(
      VIRTIO_RTC_REQ_SET_ALARM_ENABLED,
      (m, a) => {
        m.writeU16(a + 8, clockId);
        m.writeU8(a + 10, enabled ? VIRTIO_RTC_FLAG_ALARM_ENABLED : 0);
      },
      () => undefined,
    );
  }

  /** Returns and forgets the alarm notifications received so far (when no `onAlarm` was given). */
  takeAlarms(): RtcAlarmNotification[] {
    return this.#received.splice(0);
  }

  /** Call when the device interrupts: completes used requests and takes alarm notifications. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new RtcDriverError('rtc: the device needs a reset'));
      return;
    }
    if (ev.usedBuffer) {
      this.#reapRequests();
      this.#reapAlarms();
    }
  }

  /** Resets the device; pending requests reject. */
  reset(): void {
    this.device.reset();
    this.#close(new RtcDriverError('rtc: device reset'));
  }

  #alarmRequest<T>(msgType: number, fill: (m: GuestMemory, a: number) => void, decode: (m: GuestMemory, r: number) => T): Promise<T> {
    // [rtc.drv.3] alarm messages (and their flags) exist only with VIRTIO_RTC_F_ALARM.
    if (!this.alarmNegotiated) return Promise.reject(new RtcDriverError('rtc: VIRTIO_RTC_F_ALARM was not negotiated'));
    return this.#request(msgType, fill, decode);
  }

  #request<T>(msgType: number, fill: (m: GuestMemory, a: number) => void, decode: (m: GuestMemory, r: number) => T): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<T>((resolve, reject) => {
      this.#backlog.push({ addr: -1, msgType, fill, decode, resolve: resolve as (v: unknown) => void, reject });
      this.#submit();
    });
  }

  #submit(): void {
    const q = this.device.queues[VIRTIO_RTC_REQUESTQ] as DriverQueue<Pending> | undefined;
    if (!q) return;
    const m = this.#memory;
    let added = false;
    while (this.#backlog.length > 0) {
      const p = this.#backlog[0];
      const sizes = RTC_MESSAGE_SIZES.get(p.msgType) as { request: number; response: number };
      let addr: number;
      try {
        addr = this.#allocator.alloc(BUFFER_SIZE, 8);
      } catch (err) {
        if (this.#inFlight.size > 0) break;
        this.#backlog.shift();
        p.reject(err as Error);
        continue;
      }
      // [rtc.drv.2] every reserved byte zero: the whole request is cleared before its fields are set.
      m.write(addr, ZEROES);
      m.writeU16(addr, p.msgType);
      p.fill(m, addr);
      // [rtc.drv.6] the device-writable buffer holds the whole response.
      if (!q.add([{ addr, len: sizes.request }], [{ addr: addr + RESP_AT, len: sizes.response }], p)) {
        this.#allocator.free(addr);
        break;
      }
      p.addr = addr;
      this.#backlog.shift();
      this.#inFlight.add(p);
      added = true;
    }
    if (added) this.device.kick(VIRTIO_RTC_REQUESTQ);
  }

  #reapRequests(): void {
    const q = this.device.queues[VIRTIO_RTC_REQUESTQ] as DriverQueue<Pending> | undefined;
    if (!q) return;
    const m = this.#memory;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const p = used.token;
        if (!this.#inFlight.delete(p)) continue;
        const resp = p.addr + RESP_AT;
        const size = (RTC_MESSAGE_SIZES.get(p.msgType) as { response: number }).response;
        const status = used.len >= 1 ? m.readU8(resp) : -1;
        let result: unknown;
        let error: Error | undefined;
        // [rtc.drv.1] nothing but the status is looked at unless the status is VIRTIO_RTC_S_OK.
        if (status === -1) error = new RtcDriverError(`rtc: request 0x${p.msgType.toString(16)} came back without a status`);
        else if (status !== VIRTIO_RTC_S_OK) error = new RtcStatusError(status, p.msgType);
        else if (used.len < size) error = new RtcDriverError(`rtc: request 0x${p.msgType.toString(16)}: ${used.len}-byte response, ${size} expected`);
        else result = p.decode(m, resp);
        this.#allocator.free(p.addr);
        if (error) p.reject(error);
        else p.resolve(result);
      }
      if (!q.enableInterrupts()) break;
    }
    this.#submit();
  }

  #fillAlarmq(): void {
    const q = this.device.queues[VIRTIO_RTC_ALARMQ] as DriverQueue<number> | undefined;
    if (!q || this.#alarmBlock !== undefined) return;
    const base = this.#allocator.alloc(this.#alarmBuffers * VIRTIO_RTC_NOTIF_ALARM_SIZE, 8);
    this.#alarmBlock = base;
    for (let i = 0; i < this.#alarmBuffers; i++) {
      const addr = base + i * VIRTIO_RTC_NOTIF_ALARM_SIZE;
      // [rtc.drv.11] room for a whole notification, all device-writable.
      q.add([], [{ addr, len: VIRTIO_RTC_NOTIF_ALARM_SIZE }], addr);
    }
    this.device.kick(VIRTIO_RTC_ALARMQ);
  }

  #reapAlarms(): void {
    const q = this.device.queues[VIRTIO_RTC_ALARMQ] as DriverQueue<number> | undefined;
    if (!q) return;
    const m = this.#memory;
    let added = false;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const addr = used.token;
        // [rtc.drv.4] reserved bytes of the notification are not looked at.
        if (used.len >= VIRTIO_RTC_NOTIF_ALARM_SIZE && m.readU16(addr) === VIRTIO_RTC_NOTIF_ALARM) this.#alarmed(m.readU16(addr + 8));
        q.add([], [{ addr, len: VIRTIO_RTC_NOTIF_ALARM_SIZE }], addr);
        added = true;
      }
      if (!q.enableInterrupts()) break;
    }
    if (added) this.device.kick(VIRTIO_RTC_ALARMQ);
  }

  /** [rtc.drv.12] the clock is read, not assumed to be at the alarm time. */
  #alarmed(clockId: number): void {
    const deliver = (clockReading: bigint | undefined) => {
      const n = { clockId, clockReading };
      if (this.#onAlarm) this.#onAlarm(n);
      else this.#received.push(n);
    };
    this.read(clockId).then(deliver, () => deliver(undefined));
  }

  #close(err: Error): void {
    this.#closed = err;
    // After DEVICE_NEEDS_RESET the device may still write the buffers: they are not reused then.
    const release = !this.device.needsReset;
    if (release && this.#alarmBlock !== undefined) {
      this.#allocator.free(this.#alarmBlock);
      this.#alarmBlock = undefined;
    }
    for (const p of this.#inFlight) {
      if (release) this.#allocator.free(p.addr);
      p.reject(err);
    }
    this.#inFlight.clear();
    for (const p of this.#backlog.splice(0)) p.reject(err);
  }
}

function checkU16(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`rtc: clock id ${id} outside 0..65535`);
}

/** [rtc.drv.7] [rtc.drv.8] only hardware counter identifiers the spec allows a driver to send. */
function checkCounter(hw: number): void {
  if (!Number.isInteger(hw) || !isDriverHwCounter(hw)) throw new RangeError(`rtc: hw_counter ${hw} is not a defined counter identifier nor 0xF0..0xFE`);
}
