/**
 * The GPIO device, driver side (spec 5.18): sends requestq messages (each a device-readable
 * struct virtio_gpio_request and a device-writable response, several in flight at once) and,
 * with VIRTIO_GPIO_F_IRQ, enables interrupts and keeps one eventq buffer pair per unmasked line.
 */
import {
  DeviceInitError,
  DriverDevice,
  featureMask,
  hasFeature,
  initializeDevice,
  setUpQueue,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import { decodeLineNames } from './config.js';
import {
  isGpioDirection,
  isGpioIrqType,
  VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE,
  VIRTIO_GPIO_CONFIG_NGPIO,
  VIRTIO_GPIO_DIRECTION_NONE,
  VIRTIO_GPIO_DIRECTION_OUT,
  VIRTIO_GPIO_EVENTQ,
  VIRTIO_GPIO_F_IRQ,
  VIRTIO_GPIO_IRQ_REQUEST_SIZE,
  VIRTIO_GPIO_IRQ_RESPONSE_SIZE,
  VIRTIO_GPIO_IRQ_STATUS_VALID,
  VIRTIO_GPIO_IRQ_TYPE_NONE,
  VIRTIO_GPIO_MSG_GET_DIRECTION,
  VIRTIO_GPIO_MSG_GET_LINE_NAMES,
  VIRTIO_GPIO_MSG_GET_VALUE,
  VIRTIO_GPIO_MSG_SET_DIRECTION,
  VIRTIO_GPIO_MSG_SET_IRQ_TYPE,
  VIRTIO_GPIO_MSG_SET_VALUE,
  VIRTIO_GPIO_REQUEST_SIZE,
  VIRTIO_GPIO_REQUESTQ,
  VIRTIO_GPIO_RESPONSE_SIZE,
  VIRTIO_GPIO_STATUS_OK,
  type GpioDirection,
  type GpioIrqType,
  type GpioLevel,
} from './protocol.js';

export interface GpioDriverOptions {
  /** Guest memory holding the rings and buffers. */
  readonly memory: GuestMemory;
  /** Allocates the rings and (freed after use) the message buffers. */
  readonly allocator: GuestAllocator;
  /** Requested queue sizes (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** Accept VIRTIO_GPIO_F_IRQ when offered (and set up the eventq). Default true. */
  readonly irq?: boolean;
  /** Ring features the driver accepts when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
}

/** Called for every interrupt on a line; the line is unmasked again once it returns (or its promise settles). */
export type GpioInterruptHandler = (line: number) => void | Promise<void>;

/** Why a driver call failed without a device answer: reset, DEVICE_NEEDS_RESET, a rule of the spec the call would break. */
export class GpioDriverError extends Error {
  override readonly name = 'GpioDriverError';
}

/** The device answered a message with VIRTIO_GPIO_STATUS_ERR (or an incomplete response). */
export class GpioStatusError extends Error {
  override readonly name = 'GpioStatusError';
  constructor(
    /** The message type (VIRTIO_GPIO_MSG_*). */
    readonly type: number,
    /** The line number sent. */
    readonly line: number,
  ) {
    super(`gpio: message ${type} for line ${line} failed`);
  }
}

interface Message {
  readonly type: number;
  readonly gpio: number;
  readonly value: number;
  /** Size of the response structure, in bytes. */
  readonly responseSize: number;
  resolve(response: Uint8Array): void;
  reject(err: Error): void;
}

interface Pending extends Message {
  readonly addr: number;
}

/** Interrupt state of one line. */
interface IrqLine {
  /** The enabled trigger type; NONE while disabled. */
  type: GpioIrqType;
  handler: GpioInterruptHandler;
  /** The line's eventq buffer pair: virtio_gpio_irq_request (2 bytes) then _irq_response (1 byte). */
  addr: number;
  /** The pair is on the eventq (the interrupt is unmasked). */
  onRing: boolean;
  /** The handler is running: the line stays masked. */
  handling: boolean;
  /** Enable/disable calls of the line, one after the other. */
  ops: Promise<unknown>;
  /** Enable/disable calls queued or running. */
  busy: number;
}

export class GpioDriver {
  readonly device: DriverDevice;
  /** Number of lines (config ngpio). */
  readonly ngpio: number;
  /** Size of the gpio-names block in bytes (config gpio_names_size); 0 when the device has no names. */
  readonly namesSize: number;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #backlog: Message[] = [];
  readonly #inFlight = new Set<Pending>();
  /** Directions this driver set (lines it never configured are absent). */
  readonly #direction = new Map<number, GpioDirection>();
  readonly #irqs = new Map<number, IrqLine>();
  #closed: Error | undefined;

  private constructor(device: DriverDevice, ngpio: number, namesSize: number, opts: GpioDriverOptions) {
    this.device = device;
    this.ngpio = ngpio;
    this.namesSize = namesSize;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
  }

  /**
   * Initializes the GPIO device behind `transport` (spec 3.1.1, 5.18.5): the requestq, and the
   * eventq when VIRTIO_GPIO_F_IRQ is negotiated.
   * @throws DeviceInitError from the initialization sequence
   */
  static initialize(transport: DriverTransport, opts: GpioDriverOptions): GpioDriver {
    const ring = opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: ring | (opts.irq === false ? 0n : featureMask(VIRTIO_GPIO_F_IRQ)),
      queues: [{ index: VIRTIO_GPIO_REQUESTQ, size: opts.queueSize }],
      // The eventq exists only with VIRTIO_GPIO_F_IRQ (spec 5.18.2), known once features are negotiated.
      setup: (queues, features) => {
        if (!hasFeature(features, VIRTIO_GPIO_F_IRQ)) return;
        const q = setUpQueue(transport, opts, { index: VIRTIO_GPIO_EVENTQ, size: opts.queueSize }, features);
        if (!q) {
          transport.setStatus(transport.getStatus() | VIRTIO_CONFIG_S_FAILED);
          throw new DeviceInitError('queue-unavailable', `queue ${VIRTIO_GPIO_EVENTQ}`);
        }
        (queues as (DriverQueue | undefined)[])[VIRTIO_GPIO_EVENTQ] = q;
      },
    });
    const [ngpio, namesSize] = device.readConfig((c) => [c.u16(VIRTIO_GPIO_CONFIG_NGPIO), c.u32(VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE)] as const);
    return new GpioDriver(device, ngpio, namesSize, opts);
  }

  /** Whether VIRTIO_GPIO_F_IRQ was negotiated (interrupts can be used). */
  get irq(): boolean {
    return hasFeature(this.device.features, VIRTIO_GPIO_F_IRQ);
  }

  /**
   * How many lines can have interrupts at once: one buffer pair (two descriptors) per line must
   * fit on the eventq. 0 without VIRTIO_GPIO_F_IRQ. A disabled line's room is free again once
   * the device returned its buffer.
   */
  get maxInterruptLines(): number {
    const q = this.device.queues[VIRTIO_GPIO_EVENTQ];
    return q ? Math.floor(q.config.size / 2) : 0;
  }

  /** Messages on the ring or waiting for room. */
  get pending(): number {
    return this.#inFlight.size + this.#backlog.length;
  }

  /**
   * The line names (GET_LINE_NAMES), one entry per line, null for a line without a name.
   * @returns all null when the device has no names (gpio_names_size 0), without asking it
   */
  async lineNames(): Promise<(string | null)[]> {
    if (this.namesSize === 0) return new Array<string | null>(this.ngpio).fill(null);
    const r = await this.#send(VIRTIO_GPIO_MSG_GET_LINE_NAMES, 0, 0, 1 + this.namesSize);
    return decodeLineNames(this.ngpio, r.subarray(1));
  }

  /** The line's configured direction (GET_DIRECTION). @throws RangeError (synchronously) for a bad line; rejects with GpioStatusError */
  getDirection(line: number): Promise<GpioDirection> {
    this.#checkLine(line);
    return this.#send(VIRTIO_GPIO_MSG_GET_DIRECTION, line, 0, VIRTIO_GPIO_RESPONSE_SIZE).then((r) => {
      if (!isGpioDirection(r[1])) throw new GpioDriverError(`gpio: device reported direction ${r[1]} for line ${line}`);
      return r[1];
    });
  }

  /**
   * Configures the line (SET_DIRECTION). Setting VIRTIO_GPIO_DIRECTION_NONE on a line with an
   * enabled interrupt disables the interrupt first ([gpio.drv.8]); output is refused on such a
   * line. Set the output value with {@link setValue} before switching to output.
   * @throws RangeError (synchronously) for a bad line or direction; rejects with GpioDriverError or GpioStatusError
   */
  setDirection(line: number, direction: GpioDirection): Promise<void> {
    this.#checkLine(line);
    if (!isGpioDirection(direction)) throw new RangeError(`gpio: direction ${direction}`);
    const irq = this.#irqs.get(line);
    const irqEnabled = irq !== undefined && irq.type !== VIRTIO_GPIO_IRQ_TYPE_NONE;
    if (irqEnabled && direction === VIRTIO_GPIO_DIRECTION_OUT) {
      return Promise.reject(new GpioDriverError(`gpio: line ${line} has an enabled interrupt; it cannot be an output`));
    }
    const send = () => this.#send(VIRTIO_GPIO_MSG_SET_DIRECTION, line, direction, VIRTIO_GPIO_RESPONSE_SIZE).then(() => void this.#direction.set(line, direction));
    return irqEnabled && direction === VIRTIO_GPIO_DIRECTION_NONE ? this.disableInterrupt(line).then(send) : send();
  }

  /** The level sensed on the line (GET_VALUE). @throws RangeError (synchronously) for a bad line; rejects with GpioStatusError */
  getValue(line: number): Promise<GpioLevel> {
    this.#checkLine(line);
    return this.#send(VIRTIO_GPIO_MSG_GET_VALUE, line, 0, VIRTIO_GPIO_RESPONSE_SIZE).then((r) => (r[1] ? 1 : 0));
  }

  /** Sets the output value (SET_VALUE), driven now or once the line becomes an output. @throws RangeError (synchronously); rejects with GpioStatusError */
  setValue(line: number, value: GpioLevel): Promise<void> {
    this.#checkLine(line);
    if (value !== 0 && value !== 1) throw new RangeError(`gpio: value ${value}`);
    return this.#send(VIRTIO_GPIO_MSG_SET_VALUE, line, value, VIRTIO_GPIO_RESPONSE_SIZE).then(() => undefined);
  }

  /**
   * Enables the line's interrupt with trigger `type` (SET_IRQ_TYPE), then unmasks it by queuing
   * the line's one eventq buffer pair ([gpio.drv.10], [gpio.drv.11]). `handler` runs for every
   * interrupt; the line is unmasked again when it settles. Changing the type of an enabled
   * interrupt disables it first ([gpio.drv.9]).
   * @throws RangeError for a bad line or type; rejects with GpioDriverError without
   * VIRTIO_GPIO_F_IRQ ([gpio.drv.6]) or for a line this driver configured for output ([gpio.drv.7])
   */
  enableInterrupt(line: number, type: GpioIrqType, handler: GpioInterruptHandler): Promise<void> {
    this.#checkLine(line);
    if (!isGpioIrqType(type) || type === VIRTIO_GPIO_IRQ_TYPE_NONE) throw new RangeError(`gpio: trigger type ${type}`);
    if (!this.irq) return Promise.reject(new GpioDriverError('gpio: VIRTIO_GPIO_F_IRQ was not negotiated'));
    if (this.#direction.get(line) === VIRTIO_GPIO_DIRECTION_OUT) return Promise.reject(new GpioDriverError(`gpio: line ${line} is an output`));
    let rec = this.#irqs.get(line);
    let inUse = 0;
    for (const other of this.#irqs.values()) if (other !== rec && (other.type !== VIRTIO_GPIO_IRQ_TYPE_NONE || other.onRing || other.busy > 0)) inUse++;
    if (inUse >= this.maxInterruptLines) {
      return Promise.reject(new GpioDriverError(`gpio: the eventq has room for ${this.maxInterruptLines} lines with interrupts`));
    }
    if (!rec) {
      let addr: number;
      try {
        addr = this.#allocator.alloc(VIRTIO_GPIO_IRQ_REQUEST_SIZE + VIRTIO_GPIO_IRQ_RESPONSE_SIZE, 2);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      rec = { type: VIRTIO_GPIO_IRQ_TYPE_NONE, handler, addr, onRing: false, handling: false, ops: Promise.resolve(), busy: 0 };
      this.#irqs.set(line, rec);
    }
    const r = rec;
    return this.#serialize(r, async () => {
      r.handler = handler;
      if (r.type === type) return;
      if (r.type !== VIRTIO_GPIO_IRQ_TYPE_NONE) await this.#disable(line, r);
      await this.#send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, line, type, VIRTIO_GPIO_RESPONSE_SIZE);
      r.type = type;
      this.#unmask(line, r);
    });
  }

  /**
   * Disables the line's interrupt (SET_IRQ_TYPE with VIRTIO_GPIO_IRQ_TYPE_NONE, [gpio.drv.8]);
   * the device returns the line's eventq buffer. Does nothing for a line never enabled.
   */
  disableInterrupt(line: number): Promise<void> {
    this.#checkLine(line);
    const r = this.#irqs.get(line);
    if (!r) return Promise.resolve();
    return this.#serialize(r, () => (r.type === VIRTIO_GPIO_IRQ_TYPE_NONE ? undefined : this.#disable(line, r)));
  }

  /** Call when the device interrupts: completes messages and dispatches interrupt events. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new GpioDriverError('gpio: the device needs a reset'));
      return;
    }
    if (ev.usedBuffer) {
      this.#reapEvents();
      this.#reapRequests();
    }
  }

  /** Resets the device; pending messages reject and their buffers are freed. */
  reset(): void {
    this.device.reset();
    this.#close(new GpioDriverError('gpio: device reset'));
  }

  async #disable(line: number, r: IrqLine): Promise<void> {
    // Mark it disabled first: the buffer the device returns now is not queued again.
    r.type = VIRTIO_GPIO_IRQ_TYPE_NONE;
    await this.#send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, line, VIRTIO_GPIO_IRQ_TYPE_NONE, VIRTIO_GPIO_RESPONSE_SIZE);
  }

  #serialize(r: IrqLine, op: () => Promise<void> | void): Promise<void> {
    r.busy++;
    const next = r.ops.then(op).finally(() => void r.busy--);
    r.ops = next.catch(() => undefined);
    return next;
  }

  /** Queues the line's buffer pair when the interrupt is enabled and the pair is not already queued ([gpio.drv.12], [gpio.drv.13]). */
  #unmask(line: number, r: IrqLine): void {
    const q = this.device.queues[VIRTIO_GPIO_EVENTQ] as DriverQueue<number> | undefined;
    if (!q || this.#closed || r.onRing || r.handling || r.type === VIRTIO_GPIO_IRQ_TYPE_NONE) return;
    this.#memory.writeU16(r.addr, line);
    this.#memory.writeU8(r.addr + VIRTIO_GPIO_IRQ_REQUEST_SIZE, 0);
    const ok = q.add(
      [{ addr: r.addr, len: VIRTIO_GPIO_IRQ_REQUEST_SIZE }],
      [{ addr: r.addr + VIRTIO_GPIO_IRQ_REQUEST_SIZE, len: VIRTIO_GPIO_IRQ_RESPONSE_SIZE }],
      line,
    );
    // Cannot fail: enableInterrupt keeps the lines with interrupts within the eventq's room.
    if (!ok) return;
    r.onRing = true;
    this.device.kick(VIRTIO_GPIO_EVENTQ);
  }

  #reapEvents(): void {
    const q = this.device.queues[VIRTIO_GPIO_EVENTQ] as DriverQueue<number> | undefined;
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const line = used.token;
        const r = this.#irqs.get(line);
        if (!r) continue;
        r.onRing = false;
        const valid = used.len >= 1 && this.#memory.readU8(r.addr + VIRTIO_GPIO_IRQ_REQUEST_SIZE) === VIRTIO_GPIO_IRQ_STATUS_VALID;
        if (valid && r.type !== VIRTIO_GPIO_IRQ_TYPE_NONE) this.#dispatch(line, r);
        else this.#unmask(line, r); // returned INVALID: queued again only if re-enabled meanwhile
      }
      if (!q.enableInterrupts()) break;
    }
  }

  /** Runs the handler with the line masked, then unmasks it. */
  #dispatch(line: number, r: IrqLine): void {
    r.handling = true;
    let done: void | Promise<void>;
    try {
      done = r.handler(line);
    } catch {
      done = undefined;
    }
    const unmask = () => {
      r.handling = false;
      this.#unmask(line, r);
    };
    if (done instanceof Promise) done.then(unmask, unmask);
    else unmask();
  }

  #checkLine(line: number): void {
    if (!Number.isInteger(line) || line < 0 || line >= this.ngpio) throw new RangeError(`gpio: line ${line} outside 0..${this.ngpio - 1}`);
  }

  /** Queues one message; resolves with the response bytes when the status is OK. */
  #send(type: number, gpio: number, value: number, responseSize: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#backlog.push({ type, gpio, value, responseSize, resolve, reject });
      this.#submit();
    });
  }

  #submit(): void {
    const q = this.device.queues[VIRTIO_GPIO_REQUESTQ] as DriverQueue<Pending> | undefined;
    if (!q) return;
    const m = this.#memory;
    let added = false;
    while (this.#backlog.length > 0) {
      const msg = this.#backlog[0];
      let addr: number;
      try {
        addr = this.#allocator.alloc(VIRTIO_GPIO_REQUEST_SIZE + msg.responseSize, 8);
      } catch (err) {
        if (this.#inFlight.size > 0) break; // memory frees up as messages complete
        this.#backlog.shift();
        msg.reject(err as Error);
        continue;
      }
      m.writeU16(addr, msg.type);
      m.writeU16(addr + 2, msg.gpio);
      m.writeU32(addr + 4, msg.value);
      const p: Pending = { ...msg, addr };
      // [gpio.drv.1] [gpio.drv.2] [gpio.drv.3] [gpio.drv.4] on the requestq: the request
      // device-readable, the response device-writable, both for every message.
      if (!q.add([{ addr, len: VIRTIO_GPIO_REQUEST_SIZE }], [{ addr: addr + VIRTIO_GPIO_REQUEST_SIZE, len: msg.responseSize }], p)) {
        this.#allocator.free(addr);
        break;
      }
      this.#backlog.shift();
      this.#inFlight.add(p);
      added = true;
    }
    if (added) this.device.kick(VIRTIO_GPIO_REQUESTQ);
  }

  #reapRequests(): void {
    const q = this.device.queues[VIRTIO_GPIO_REQUESTQ] as DriverQueue<Pending> | undefined;
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const p = used.token;
        if (!this.#inFlight.delete(p)) continue;
        const response = new Uint8Array(p.responseSize);
        this.#memory.read(p.addr + VIRTIO_GPIO_REQUEST_SIZE, response);
        this.#allocator.free(p.addr);
        // A response shorter than its structure is incomplete: treated as a failure.
        if (used.len < p.responseSize || response[0] !== VIRTIO_GPIO_STATUS_OK) p.reject(new GpioStatusError(p.type, p.gpio));
        else p.resolve(response);
      }
      if (!q.enableInterrupts()) break;
    }
    this.#submit();
  }

  #close(err: Error): void {
    this.#closed = err;
    const free = !this.device.needsReset;
    for (const p of this.#inFlight) {
      if (free) this.#allocator.free(p.addr);
      p.reject(err);
    }
    this.#inFlight.clear();
    for (const m of this.#backlog.splice(0)) m.reject(err);
    for (const r of this.#irqs.values()) {
      if (free || !r.onRing) this.#allocator.free(r.addr);
      r.type = VIRTIO_GPIO_IRQ_TYPE_NONE;
      r.onRing = false;
    }
    this.#irqs.clear();
  }
}
