/**
 * The input device, driver side (spec 5.8): queries the configuration, keeps the eventq
 * populated with 8-byte device-writable buffers, decodes events (ignoring ones the device did
 * not advertise) and sends status feedback (LED updates) on the statusq.
 */
import {
  DriverDevice,
  featureMask,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import type { InputDeviceDescription } from './description.js';
import { EV_SYN } from './event-codes.js';
import { VIRTIO_INPUT_EVENT_SIZE, VIRTIO_INPUT_EVENTQ, VIRTIO_INPUT_STATUSQ, type InputEvent } from './protocol.js';
import { queryInputDescription } from './query.js';

export interface InputDriverOptions {
  /** Guest memory holding the rings and buffers. */
  readonly memory: GuestMemory;
  /** Allocates the rings, the eventq buffers and (freed after use) statusq buffers. */
  readonly allocator: GuestAllocator;
  /** Requested queue sizes (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** eventq buffers kept available (>= 1, at most the queue size). Default the queue size. */
  readonly eventBuffers?: number;
  /** Ring features the driver accepts when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
  /** Called for every event the device sent that it advertised (EV_SYN always passes). */
  readonly onEvent?: (event: InputEvent) => void;
}

/** Why a status send failed: the device was reset or needs a reset. */
export class InputDriverError extends Error {
  override readonly name = 'InputDriverError';
}

interface StatusPending {
  readonly addr: number;
  resolve(): void;
  reject(err: Error): void;
}

export class InputDriver {
  readonly device: DriverDevice;
  /** What the device said it is, read before the eventq was populated (spec 5.8.5). */
  readonly description: InputDeviceDescription;
  /** Events that passed the filter, when no `onEvent` was given (oldest first; take with {@link takeEvents}). */
  readonly #received: InputEvent[] = [];
  readonly #onEvent: ((e: InputEvent) => void) | undefined;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  /** Advertised (type << 16 | code) pairs. */
  readonly #known: Set<number>;
  readonly #statusInFlight = new Set<StatusPending>();
  #ignored = 0;
  #closed: Error | undefined;

  private constructor(device: DriverDevice, description: InputDeviceDescription, opts: InputDriverOptions) {
    this.device = device;
    this.description = description;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
    this.#onEvent = opts.onEvent;
    this.#known = new Set();
    for (const [type, codes] of description.events) for (const code of codes) this.#known.add((type << 16) | code);
  }

  /**
   * Initializes the input device behind `transport` (spec 3.1.1, 5.8.5): reads its description,
   * then fills the eventq with buffers.
   * @throws DeviceInitError from the initialization sequence; RangeError for a bad eventBuffers
   */
  static initialize(transport: DriverTransport, opts: InputDriverOptions): InputDriver {
    let description: InputDeviceDescription | undefined;
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED),
      queues: [
        { index: VIRTIO_INPUT_EVENTQ, size: opts.queueSize },
        { index: VIRTIO_INPUT_STATUSQ, size: opts.queueSize },
      ],
      setup: (queues) => {
        description = queryInputDescription(transport);
        const q = queues[VIRTIO_INPUT_EVENTQ] as DriverQueue<number>;
        const n = opts.eventBuffers ?? q.config.size;
        if (!Number.isInteger(n) || n < 1 || n > q.config.size) throw new RangeError(`input: eventBuffers ${n} outside 1..${q.config.size}`);
        const base = opts.allocator.alloc(n * VIRTIO_INPUT_EVENT_SIZE, 8);
        // [input.drv.4] device-writable buffers of exactly one struct virtio_input_event.
        for (let i = 0; i < n; i++) q.add([], [{ addr: base + i * VIRTIO_INPUT_EVENT_SIZE, len: VIRTIO_INPUT_EVENT_SIZE }], base + i * VIRTIO_INPUT_EVENT_SIZE);
      },
    });
    return new InputDriver(device, description as InputDeviceDescription, opts);
  }

  /** Events the device sent that the driver did not recognize and ignored ([input.drv.6]). */
  get ignored(): number {
    return this.#ignored;
  }

  /** Returns and forgets the events received so far (when no `onEvent` callback was given). */
  takeEvents(): InputEvent[] {
    return this.#received.splice(0);
  }

  /**
   * Sends one status event (e.g. EV_LED, LED_CAPSL, 1) in its own 8-byte statusq buffer.
   * Resolves when the device returned the buffer.
   * @throws RangeError for a field out of range; the promise rejects with InputDriverError on reset,
   * or with the allocator's error / InputDriverError when the statusq is full
   */
  sendStatus(event: InputEvent): Promise<void> {
    const { type, code, value } = event;
    const u16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
    if (!u16(type) || !u16(code) || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      throw new RangeError(`input: status event ${type}/${code}/${value} out of range`);
    }
    if (this.#closed) return Promise.reject(this.#closed);
    const q = this.device.queues[VIRTIO_INPUT_STATUSQ] as DriverQueue<StatusPending> | undefined;
    if (!q) return Promise.reject(new InputDriverError('input: no statusq'));
    let addr: number;
    try {
      addr = this.#allocator.alloc(VIRTIO_INPUT_EVENT_SIZE, 8);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.#memory.writeU16(addr, type);
    this.#memory.writeU16(addr + 2, code);
    this.#memory.writeU32(addr + 4, value >>> 0);
    return new Promise<void>((resolve, reject) => {
      const p: StatusPending = { addr, resolve, reject };
      // [input.drv.5] a statusq buffer holds a whole struct virtio_input_event.
      if (!q.add([{ addr, len: VIRTIO_INPUT_EVENT_SIZE }], [], p)) {
        this.#allocator.free(addr);
        reject(new InputDriverError('input: statusq full'));
        return;
      }
      this.#statusInFlight.add(p);
      this.device.kick(VIRTIO_INPUT_STATUSQ);
    });
  }

  /** Call when the device interrupts: reaps events and returned status buffers. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new InputDriverError('input: the device needs a reset'));
      return;
    }
    if (ev.usedBuffer) {
      this.#reapEvents();
      this.#reapStatus();
    }
  }

  /** Resets the device; pending status sends reject. */
  reset(): void {
    this.device.reset();
    this.#close(new InputDriverError('input: device reset'));
  }

  #close(err: Error): void {
    this.#closed = err;
    for (const p of this.#statusInFlight) {
      if (!this.device.needsReset) this.#allocator.free(p.addr);
      p.reject(err);
    }
    this.#statusInFlight.clear();
  }

  #reapEvents(): void {
    const q = this.device.queues[VIRTIO_INPUT_EVENTQ] as DriverQueue<number> | undefined;
    if (!q) return;
    const m = this.#memory;
    let added = false;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const addr = used.token;
        if (used.len >= VIRTIO_INPUT_EVENT_SIZE) {
          const type = m.readU16(addr);
          const code = m.readU16(addr + 2);
          const value = m.readU32(addr + 4) | 0;
          // [input.drv.6] events the device did not advertise are ignored.
          if (type === EV_SYN || this.#known.has((type << 16) | code)) this.#deliver({ type, code, value });
          else this.#ignored++;
        } else {
          this.#ignored++;
        }
        q.add([], [{ addr, len: VIRTIO_INPUT_EVENT_SIZE }], addr);
        added = true;
      }
      if (!q.enableInterrupts()) break;
    }
    if (added) this.device.kick(VIRTIO_INPUT_EVENTQ);
  }

  #deliver(e: InputEvent): void {
    if (this.#onEvent) this.#onEvent(e);
    else this.#received.push(e);
  }

  #reapStatus(): void {
    const q = this.device.queues[VIRTIO_INPUT_STATUSQ] as DriverQueue<StatusPending> | undefined;
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const p = used.token;
        if (!this.#statusInFlight.delete(p)) continue;
        this.#allocator.free(p.addr);
        p.resolve();
      }
      if (!q.enableInterrupts()) break;
    }
  }
}
