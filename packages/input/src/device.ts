/**
 * The input device, device side (spec 5.8): answers the configuration query space from an
 * {@link InputDeviceDescription}, delivers host events on the eventq one per buffer (whole
 * sequences buffered or dropped, never split), and hands statusq feedback to a sink.
 */
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  type ActivateContext,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import type { InputStatusSink } from './backends/status.js';
import { InputConfigSpace } from './config.js';
import type { InputDeviceDescription } from './description.js';
import { InputRequestError } from './errors.js';
import {
  VIRTIO_INPUT_CONFIG_BYTES,
  VIRTIO_INPUT_DEVICE_ID,
  VIRTIO_INPUT_EVENT_SIZE,
  VIRTIO_INPUT_EVENTQ,
  VIRTIO_INPUT_STATUSQ,
  type InputEvent,
} from './protocol.js';

export interface InputDeviceOptions {
  /** What the device is: name, ids, supported events (e.g. {@link keyboardDescription}). */
  readonly description: InputDeviceDescription;
  /** Where the driver's statusq feedback (LED updates) goes. Default: discarded. */
  readonly status?: InputStatusSink;
  /**
   * Events held while the eventq has no buffer, in events (>= 1). A sequence that does not fit
   * is dropped whole. Default 1024.
   */
  readonly bufferEvents?: number;
  /** Maximum size of each queue (descriptors, 1..32768). Default 64. */
  readonly queueSize?: number;
  /**
   * Ring and transport feature bits offered besides VIRTIO_F_VERSION_1 (the device has no
   * feature bits of its own, spec 5.8.3). Default INDIRECT_DESC | EVENT_IDX | RING_PACKED | RING_RESET.
   */
  readonly ringFeatures?: bigint;
}

/** Counters since construction. */
export interface InputStats {
  /** Events written into eventq buffers. */
  readonly delivered: number;
  /** Events dropped (device not live, or their sequence did not fit the buffer). */
  readonly dropped: number;
  /** Events received on the statusq. */
  readonly statusEvents: number;
}

/**
 * Most events read from one statusq buffer (drivers send one per buffer); the rest of a longer
 * buffer is ignored, so a huge guest buffer cannot keep the host busy.
 */
export const STATUS_EVENTS_PER_BUFFER = 16;

export const INPUT_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

const isU16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
const isS32 = (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31;

export class InputDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_INPUT_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 2;
  readonly configSize = VIRTIO_INPUT_CONFIG_BYTES;
  readonly description: InputDeviceDescription;

  readonly #config: InputConfigSpace;
  readonly #status: InputStatusSink | undefined;
  readonly #queueSize: number;
  /** Pending events, a ring of `cap` entries: type | code << 16, and value. */
  readonly #keys: Uint32Array;
  readonly #values: Int32Array;
  #head = 0;
  #count = 0;
  #ctx: ActivateContext | undefined;
  #broken = false;
  #suspended = false;
  #delivered = 0;
  #dropped = 0;
  #statusEvents = 0;

  /** @throws RangeError for out-of-range options or a description that does not fit the configuration layout */
  constructor(opts: InputDeviceOptions) {
    const size = opts.queueSize ?? 64;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`input: queueSize ${size} outside 1..32768`);
    const cap = opts.bufferEvents ?? 1024;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`input: bufferEvents ${cap} is not a positive integer`);
    this.#config = new InputConfigSpace(opts.description);
    this.description = opts.description;
    this.#status = opts.status;
    this.#queueSize = size;
    this.#keys = new Uint32Array(cap);
    this.#values = new Int32Array(cap);
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? INPUT_DEFAULT_RING_FEATURES);
  }

  get stats(): InputStats {
    return { delivered: this.#delivered, dropped: this.#dropped, statusEvents: this.#statusEvents };
  }

  /** Events waiting for eventq buffers. */
  get pending(): number {
    return this.#count;
  }

  /**
   * Sends one input device update (host API): a sequence of events, normally ending with
   * EV_SYN/SYN_REPORT. Delivered at once as far as eventq buffers allow; the rest waits for
   * buffers. The whole sequence is dropped when the driver is not live (before DRIVER_OK,
   * after a reset or DEVICE_NEEDS_RESET) or when it does not fit the buffer (spec 5.8.6.2).
   * @returns false when the sequence was dropped
   * @throws RangeError for a type or code outside 0..0xffff or a value outside the s32 range (nothing is sent)
   */
  send(events: readonly InputEvent[]): boolean {
    for (const e of events) {
      if (!isU16(e.type) || !isU16(e.code) || !isS32(e.value)) throw new RangeError(`input: event ${e.type}/${e.code}/${e.value} out of range`);
    }
    const cap = this.#keys.length;
    if (!this.#ctx?.queues[VIRTIO_INPUT_EVENTQ] || this.#broken || this.#count + events.length > cap) {
      this.#dropped += events.length;
      return false;
    }
    for (const e of events) {
      const at = (this.#head + this.#count) % cap;
      this.#keys[at] = e.type | (e.code << 16);
      this.#values[at] = e.value;
      this.#count++;
    }
    this.#flush();
    return true;
  }

  queueMaxSize(index: number): number {
    return index === VIRTIO_INPUT_EVENTQ || index === VIRTIO_INPUT_STATUSQ ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#config.write(offset, width, value);
  }

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#suspended = false;
    this.#flush();
    this.#drainStatus();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_INPUT_EVENTQ) this.#flush();
    else if (queueIndex === VIRTIO_INPUT_STATUSQ) this.#drainStatus();
  }

  enableQueue(queueIndex: number): void {
    this.queueNotify(queueIndex);
  }

  /** The device holds no chain between calls, so a queue reset only forgets pending events of the eventq. */
  resetQueue(queueIndex: number): void {
    if (queueIndex === VIRTIO_INPUT_EVENTQ) this.#clear();
  }

  reset(): void {
    this.#ctx = undefined;
    this.#broken = false;
    this.#suspended = false;
    this.#clear();
    this.#config.reset();
  }

  suspend(): void {
    this.#suspended = true;
  }

  resume(): void {
    this.#suspended = false;
    this.#flush();
    this.#drainStatus();
  }

  #clear(): void {
    this.#dropped += this.#count;
    this.#head = 0;
    this.#count = 0;
  }

  /** Writes pending events into eventq buffers, one event per buffer, then notifies once. */
  #flush(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_INPUT_EVENTQ];
    if (!ctx || !q || this.#broken || this.#suspended || this.#count === 0) return;
    const cap = this.#keys.length;
    try {
      while (this.#count > 0) {
        const chain = q.pop();
        if (chain === null) {
          if (q.enableNotifications()) continue;
          break;
        }
        if (chain.readable.length > 0 || chain.writableLength < VIRTIO_INPUT_EVENT_SIZE) {
          throw new InputRequestError('bad-event-buffer', `chain ${chain.id}: ${chain.readableLength} readable, ${chain.writableLength} writable bytes`);
        }
        const k = this.#keys[this.#head];
        this.#writeEvent(ctx, chain, k & 0xffff, k >>> 16, this.#values[this.#head]);
        q.push(chain, VIRTIO_INPUT_EVENT_SIZE);
        this.#head = (this.#head + 1) % cap;
        this.#count--;
        this.#delivered++;
      }
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_INPUT_EVENTQ);
  }

  #writeEvent(ctx: ActivateContext, chain: DescriptorChain, type: number, code: number, value: number): void {
    const seg = chain.writable[0];
    if (seg.len >= VIRTIO_INPUT_EVENT_SIZE) {
      const m = ctx.memory;
      m.writeU16(seg.addr, type);
      m.writeU16(seg.addr + 2, code);
      m.writeU32(seg.addr + 4, value >>> 0);
      return;
    }
    const w = new ChainWriter(ctx.memory, chain.writable);
    w.writeU16(type);
    w.writeU16(code);
    w.writeU32(value >>> 0);
  }

  /** Takes every statusq buffer, hands its events to the sink, returns it with nothing written. */
  #drainStatus(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_INPUT_STATUSQ];
    if (!ctx || !q || this.#broken || this.#suspended) return;
    let pushed = false;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) {
          if (chain.readableLength < VIRTIO_INPUT_EVENT_SIZE) {
            throw new InputRequestError('bad-status-buffer', `chain ${chain.id}: ${chain.readableLength} readable bytes`);
          }
          const r = new ChainReader(ctx.memory, chain.readable);
          for (let n = 0; n < STATUS_EVENTS_PER_BUFFER && r.remaining >= VIRTIO_INPUT_EVENT_SIZE; n++) {
            const type = r.readU16();
            const code = r.readU16();
            const value = r.readU32() | 0;
            this.#statusEvents++;
            try {
              this.#status?.status({ type, code, value });
            } catch {
              // Feedback is advisory: a failing sink does not stop the device.
            }
          }
          q.push(chain, 0);
          pushed = true;
        }
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_INPUT_STATUSQ);
  }

  #fail(ctx: ActivateContext, err: unknown): void {
    this.#broken = true;
    this.#clear();
    ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }
}
