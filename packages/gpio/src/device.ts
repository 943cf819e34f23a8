/**
 * The GPIO device, device side (spec 5.18): answers requestq messages from a
 * {@link GpioBackend}'s lines and, with VIRTIO_GPIO_F_IRQ, senses interrupts and returns the
 * eventq buffer of a line whose interrupt is enabled and unmasked.
 *
 * Every message is answered in order of arrival with a complete response ([gpio.dev.1],
 * [gpio.dev.5]); malformed or refused messages get VIRTIO_GPIO_STATUS_ERR. Only a chain without
 * a single device-writable byte sets DEVICE_NEEDS_RESET.
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
import { ChainReader, ChainWriter, type DescriptorChain, type GuestMemory } from '@virtio/ring';
import type { GpioBackend } from './backends/backend.js';
import { encodeLineNames, GpioConfigSpace } from './config.js';
import { GpioRequestError } from './errors.js';
import {
  isGpioDirection,
  isGpioIrqType,
  VIRTIO_GPIO_DEVICE_ID,
  VIRTIO_GPIO_DIRECTION_NONE,
  VIRTIO_GPIO_DIRECTION_OUT,
  VIRTIO_GPIO_EVENTQ,
  VIRTIO_GPIO_F_IRQ,
  VIRTIO_GPIO_CONFIG_SIZE,
  VIRTIO_GPIO_IRQ_REQUEST_SIZE,
  VIRTIO_GPIO_IRQ_STATUS_INVALID,
  VIRTIO_GPIO_IRQ_STATUS_VALID,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING,
  VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH,
  VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW,
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
  VIRTIO_GPIO_STATUS_ERR,
  VIRTIO_GPIO_STATUS_OK,
  type GpioLevel,
} from './protocol.js';

export interface GpioDeviceOptions {
  /** The lines: e.g. a {@link SimulatedGpioLines}. */
  readonly lines: GpioBackend;
  /** Offer VIRTIO_GPIO_F_IRQ (interrupts and the eventq). Default true. */
  readonly irq?: boolean;
  /** Maximum size of each queue (descriptors, 1..32768). Default 64. */
  readonly queueSize?: number;
  /**
   * Ring and transport feature bits offered besides VIRTIO_F_VERSION_1. Default
   * VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_RING_PACKED | VIRTIO_F_RING_RESET.
   */
  readonly ringFeatures?: bigint;
}

export const GPIO_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

const EDGE_MASK = VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING | VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING;

export class GpioDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_GPIO_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 2;
  readonly configSize = VIRTIO_GPIO_CONFIG_SIZE;
  readonly ngpio: number;

  readonly #lines: GpioBackend;
  readonly #config: GpioConfigSpace;
  /** The gpio-names block, empty when no line has a name. */
  readonly #names: Uint8Array;
  readonly #queueSize: number;
  /** Per line: direction configured by the driver. */
  readonly #direction: Uint8Array;
  /** Per line: value set by SET_VALUE, driven whenever the line is an output. */
  readonly #value: Uint8Array;
  /** Per line: enabled interrupt trigger type (VIRTIO_GPIO_IRQ_TYPE_*). */
  readonly #irqType: Uint8Array;
  /** Per line: an edge interrupt was sensed while masked ([gpio.dev.8]). */
  readonly #latched: Uint8Array;
  /** Per line: the last level the backend reported. */
  readonly #level: Uint8Array;
  /** Per line: the eventq chain that unmasks its interrupt, if queued. */
  #held: (DescriptorChain | undefined)[] = [];
  #ctx: ActivateContext | undefined;
  #irq = false;
  #broken = false;
  /** Nesting depth of request/event processing: eventq notifications are sent when it drops to 0. */
  #busy = 0;
  #eventsPushed = false;

  /** @throws RangeError for out-of-range options or line names ([gpio.dev.4]) */
  constructor(opts: GpioDeviceOptions) {
    const size = opts.queueSize ?? 64;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`gpio: queueSize ${size} outside 1..32768`);
    const n = opts.lines.ngpio;
    if (!Number.isInteger(n) || n < 1 || n > 0xffff) throw new RangeError(`gpio: ngpio ${n} outside 1..65535`);
    this.ngpio = n;
    this.#lines = opts.lines;
    this.#names = encodeLineNames(n, opts.lines.names);
    this.#config = new GpioConfigSpace(n, this.#names.length);
    this.#queueSize = size;
    this.#direction = new Uint8Array(n);
    this.#value = new Uint8Array(n);
    this.#irqType = new Uint8Array(n);
    this.#latched = new Uint8Array(n);
    this.#level = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.#level[i] = this.#sense(i);
    this.deviceFeatures =
      featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? GPIO_DEFAULT_RING_FEATURES) | (opts.irq === false ? 0n : featureMask(VIRTIO_GPIO_F_IRQ));
    opts.lines.watch((line, level) => this.#levelChanged(line, level));
  }

  queueMaxSize(index: number): number {
    return index === VIRTIO_GPIO_REQUESTQ || index === VIRTIO_GPIO_EVENTQ ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  /** The configuration space is read-only. */
  writeConfig(): void {}

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#irq = hasFeature(ctx.features, VIRTIO_GPIO_F_IRQ);
    this.#serveEvents();
    this.#serveRequests();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_GPIO_REQUESTQ) this.#serveRequests();
    else if (queueIndex === VIRTIO_GPIO_EVENTQ) this.#serveEvents();
  }

  enableQueue(queueIndex: number): void {
    this.queueNotify(queueIndex);
  }

  /** The requestq holds no chain between calls; an eventq reset forgets the held unmask buffers. */
  resetQueue(queueIndex: number): void {
    if (queueIndex === VIRTIO_GPIO_EVENTQ) this.#held = [];
  }

  /** Device reset: every line back to VIRTIO_GPIO_DIRECTION_NONE, interrupts disabled, buffers forgotten. */
  reset(): void {
    this.#ctx = undefined;
    this.#broken = false;
    this.#irq = false;
    this.#held = [];
    for (let line = 0; line < this.ngpio; line++) {
      if (this.#direction[line] !== VIRTIO_GPIO_DIRECTION_NONE) {
        try {
          this.#lines.setDirection(line, VIRTIO_GPIO_DIRECTION_NONE, 0);
        } catch {
          // The line stays as the backend left it; the device state is reset regardless.
        }
      }
    }
    this.#direction.fill(0);
    this.#value.fill(0);
    this.#irqType.fill(0);
    this.#latched.fill(0);
  }

  /** Pops every requestq chain, answers each in order, notifies once. */
  #serveRequests(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_GPIO_REQUESTQ];
    if (!ctx || !q || this.#broken) return;
    let pushed = false;
    this.#busy++;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while (!this.#broken && (chain = q.pop()) !== null) {
          q.push(chain, this.#answer(ctx.memory, chain));
          pushed = true;
        }
        if (!q.enableNotifications()) break;
      }
      if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_GPIO_REQUESTQ);
    } catch (err) {
      this.#fail(ctx, err);
    } finally {
      this.#busy--;
    }
    this.#endEventBatch();
  }

  /**
   * Executes one message and writes its struct virtio_gpio_response (or _response_N).
   * @returns bytes written into the chain
   * @throws GpioRequestError when the chain has no device-writable byte
   */
  #answer(m: GuestMemory, chain: DescriptorChain): number {
    if (chain.writableLength === 0) throw new GpioRequestError('no-response-buffer', `requestq chain ${chain.id} has no device-writable byte`);
    // A request or response shorter than its structure fails (GET_LINE_NAMES checks its own size below).
    if (chain.readableLength < VIRTIO_GPIO_REQUEST_SIZE || chain.writableLength < VIRTIO_GPIO_RESPONSE_SIZE) return this.#respond(m, chain, VIRTIO_GPIO_STATUS_ERR, 0, VIRTIO_GPIO_RESPONSE_SIZE);
    let type: number;
    let gpio: number;
    let value: number;
    const first = chain.readable[0];
    if (first.len >= VIRTIO_GPIO_REQUEST_SIZE) {
      type = m.readU16(first.addr);
      gpio = m.readU16(first.addr + 2);
      value = m.readU32(first.addr + 4);
    } else {
      const r = new ChainReader(m, chain.readable);
      type = r.readU16();
      gpio = r.readU16();
      value = r.readU32();
    }
    if (type === VIRTIO_GPIO_MSG_GET_LINE_NAMES) return this.#respondNames(m, chain);
    if (gpio >= this.ngpio) return this.#respond(m, chain, VIRTIO_GPIO_STATUS_ERR, 0, VIRTIO_GPIO_RESPONSE_SIZE);
    const result = this.#execute(type, gpio, value);
    return result < 0
      ? this.#respond(m, chain, VIRTIO_GPIO_STATUS_ERR, 0, VIRTIO_GPIO_RESPONSE_SIZE)
      : this.#respond(m, chain, VIRTIO_GPIO_STATUS_OK, result, VIRTIO_GPIO_RESPONSE_SIZE);
  }

  /** Runs a line message (gpio < ngpio). @returns the response value, or -1 for VIRTIO_GPIO_STATUS_ERR */
  #execute(type: number, gpio: number, value: number): number {
    try {
      switch (type) {
        case VIRTIO_GPIO_MSG_GET_DIRECTION:
          return this.#direction[gpio];
        case VIRTIO_GPIO_MSG_SET_DIRECTION:
          return this.#setDirection(gpio, value);
        case VIRTIO_GPIO_MSG_GET_VALUE:
          return this.#lines.getValue(gpio) ? 1 : 0;
        case VIRTIO_GPIO_MSG_SET_VALUE:
          if (value > 1) return -1;
          if (this.#direction[gpio] === VIRTIO_GPIO_DIRECTION_OUT) this.#lines.setValue(gpio, value as GpioLevel);
          this.#value[gpio] = value;
          return 0;
        case VIRTIO_GPIO_MSG_SET_IRQ_TYPE:
          return this.#setIrqType(gpio, value);
        default:
          return -1;
      }
    } catch {
      // The backend refused (threw): the message fails, the device goes on.
      return -1;
    }
  }

  #setDirection(gpio: number, dir: number): number {
    if (!isGpioDirection(dir)) return -1;
    // A line with an enabled interrupt is an input; it cannot drive.
    if (dir === VIRTIO_GPIO_DIRECTION_OUT && this.#irqType[gpio] !== VIRTIO_GPIO_IRQ_TYPE_NONE) return -1;
    if (dir === VIRTIO_GPIO_DIRECTION_NONE) {
      // [gpio.dev.7] all state of the line is discarded: output value, interrupt, latch, unmask buffer.
      this.#value[gpio] = 0;
      this.#disableIrq(gpio);
    }
    // An output drives the value set so far (spec 5.18.6.5: SET_VALUE may come before or after).
    this.#lines.setDirection(gpio, dir, this.#value[gpio] as GpioLevel);
    this.#direction[gpio] = dir;
    return 0;
  }

  #setIrqType(gpio: number, type: number): number {
    if (!this.#irq || !isGpioIrqType(type)) return -1;
    if (type === VIRTIO_GPIO_IRQ_TYPE_NONE) {
      this.#disableIrq(gpio);
      return 0;
    }
    if (this.#direction[gpio] === VIRTIO_GPIO_DIRECTION_OUT) return -1;
    const current = this.#irqType[gpio];
    if (current === type) return 0;
    // Changing the trigger type of an enabled interrupt takes a disable first (spec 5.18.6.6).
    if (current !== VIRTIO_GPIO_IRQ_TYPE_NONE) return -1;
    this.#irqType[gpio] = type;
    this.#latched[gpio] = 0;
    this.#deliverIfActive(gpio);
    return 0;
  }

  /** Disables the interrupt: drops the latch ([gpio.dev.10]) and returns the unmask buffer INVALID ([gpio.dev.12]). */
  #disableIrq(gpio: number): void {
    this.#irqType[gpio] = VIRTIO_GPIO_IRQ_TYPE_NONE;
    this.#latched[gpio] = 0;
    const held = this.#held[gpio];
    if (held) {
      this.#held[gpio] = undefined;
      this.#pushEvent(held, VIRTIO_GPIO_IRQ_STATUS_INVALID);
    }
  }

  /** Answers GET_LINE_NAMES: OK and the gpio-names block, or ERR when there are no names or no room. */
  #respondNames(m: GuestMemory, chain: DescriptorChain): number {
    const names = this.#names;
    // Without names the answer is a plain struct virtio_gpio_response.
    const size = names.length === 0 ? VIRTIO_GPIO_RESPONSE_SIZE : 1 + names.length;
    if (names.length === 0 || chain.writableLength < size) return this.#respond(m, chain, VIRTIO_GPIO_STATUS_ERR, 0, size);
    const w = new ChainWriter(m, chain.writable);
    w.writeU8(VIRTIO_GPIO_STATUS_OK);
    w.write(names);
    return size;
  }

  /** Writes a response: status, value, then zeros up to `size` bytes (as far as the chain has room). @returns bytes written */
  #respond(m: GuestMemory, chain: DescriptorChain, status: number, value: number, size: number): number {
    const n = Math.min(size, chain.writableLength);
    let at = 0;
    for (const seg of chain.writable) {
      const len = Math.min(seg.len, n - at);
      if (len <= 0) break;
      for (let i = 0; i < len; i++) m.writeU8(seg.addr + i, at + i === 0 ? status : at + i === 1 ? value : 0);
      at += len;
    }
    return n;
  }

  /** Pops every eventq chain: holds valid unmask buffers, returns the others INVALID at once. */
  #serveEvents(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_GPIO_EVENTQ];
    if (!ctx || !q || this.#broken) return;
    const m = ctx.memory;
    this.#busy++;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while (!this.#broken && (chain = q.pop()) !== null) {
          if (chain.writableLength === 0) throw new GpioRequestError('no-irq-response-buffer', `eventq chain ${chain.id} has no device-writable byte`);
          const gpio = chain.readableLength < VIRTIO_GPIO_IRQ_REQUEST_SIZE ? -1 : new ChainReader(m, chain.readable).readU16();
          // Unknown line, a second buffer for the line ([gpio.drv.13]) or an interrupt not enabled: back at once.
          if (gpio < 0 || gpio >= this.ngpio || this.#held[gpio] || this.#irqType[gpio] === VIRTIO_GPIO_IRQ_TYPE_NONE) {
            this.#pushEvent(chain, VIRTIO_GPIO_IRQ_STATUS_INVALID);
            continue;
          }
          this.#held[gpio] = chain;
          if (this.#latched[gpio]) {
            this.#latched[gpio] = 0;
            this.#deliver(gpio);
          } else {
            this.#deliverIfActive(gpio);
          }
        }
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      this.#fail(ctx, err);
    } finally {
      this.#busy--;
    }
    this.#endEventBatch();
  }

  /** The backend reported a new level on `line`: edge or level interrupt sensing. */
  #levelChanged(line: number, level: GpioLevel): void {
    if (!Number.isInteger(line) || line < 0 || line >= this.ngpio) return;
    const before = this.#level[line];
    const now = level ? 1 : 0;
    this.#level[line] = now;
    if (before === now || !this.#ctx || this.#broken) return;
    const type = this.#irqType[line];
    if (type & EDGE_MASK) {
      const edge = now === 1 ? VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING : VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING;
      if ((type & edge) === 0) return;
      // [gpio.dev.8] an edge sensed while masked is latched until the driver unmasks.
      if (this.#held[line]) this.#deliver(line);
      else this.#latched[line] = 1;
    } else {
      // [gpio.dev.9] a level interrupt is never latched: delivered only if unmasked now.
      this.#deliverIfActive(line);
    }
    this.#endEventBatch();
  }

  /** For a level interrupt: delivers it when the line is at the active level and unmasked. */
  #deliverIfActive(line: number): void {
    const type = this.#irqType[line];
    const level = this.#level[line];
    const active = (type === VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH && level === 1) || (type === VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW && level === 0);
    if (active && this.#held[line]) this.#deliver(line);
  }

  /** Returns the line's unmask buffer VALID, which masks the interrupt again ([gpio.dev.11]: only enabled and unmasked lines get here). */
  #deliver(line: number): void {
    const chain = this.#held[line];
    if (!chain) return;
    this.#held[line] = undefined;
    this.#pushEvent(chain, VIRTIO_GPIO_IRQ_STATUS_VALID);
  }

  #pushEvent(chain: DescriptorChain, status: number): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_GPIO_EVENTQ];
    if (!ctx || !q) return;
    try {
      new ChainWriter(ctx.memory, chain.writable).writeU8(status);
      q.push(chain, 1);
      this.#eventsPushed = true;
    } catch (err) {
      this.#fail(ctx, err);
    }
  }

  /** Outside any processing, publishes the eventq pushes made and notifies once. */
  #endEventBatch(): void {
    if (this.#busy > 0 || !this.#eventsPushed) return;
    this.#eventsPushed = false;
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_GPIO_EVENTQ];
    if (!ctx || !q) return;
    try {
      if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_GPIO_EVENTQ);
    } catch (err) {
      this.#fail(ctx, err);
    }
  }

  #sense(line: number): number {
    try {
      return this.#lines.getValue(line) ? 1 : 0;
    } catch {
      return 0;
    }
  }

  #fail(ctx: ActivateContext, err: unknown): void {
    this.#broken = true;
    this.#held = [];
    ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }
}
