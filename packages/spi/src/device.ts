/**
 * The SPI controller device, device side (spec 5.21): checks every transfer head against the
 * controller's configuration (VIRTIO_SPI_PARAM_ERR, [spi.dev.3], [spi.dev.4]), runs valid
 * transfers on an {@link SpiBackend} one at a time in ring order, and returns rx_buf and the
 * result. Only a chain without a device-writable byte sets DEVICE_NEEDS_RESET.
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
import type { SpiBackend, SpiTransfer } from './backends/backend.js';
import { SPI_DEFAULT_CONFIG, SpiConfigSpace, type SpiConfig } from './config.js';
import { SpiRequestError } from './errors.js';
import {
  SPI_DEFAULT_MAX_TRANSFER,
  VIRTIO_SPI_CONFIG_SIZE,
  VIRTIO_SPI_DEVICE_ID,
  VIRTIO_SPI_PARAM_ERR,
  VIRTIO_SPI_REQUESTQ,
  VIRTIO_SPI_TRANS_ERR,
  VIRTIO_SPI_TRANS_OK,
  VIRTIO_SPI_TRANSFER_HEAD_SIZE,
  VIRTIO_SPI_TRANSFER_RESULT_SIZE,
} from './protocol.js';
import { checkTransfer, decodeTransferHead } from './transfer.js';

export interface SpiDeviceOptions {
  /** Where transfers go: e.g. a {@link SimulatedSpiBus}. */
  readonly bus: SpiBackend;
  /** The controller's capabilities (struct virtio_spi_config). Default {@link SPI_DEFAULT_CONFIG}. */
  readonly config?: SpiConfig;
  /** Longest tx_buf / rx_buf, in bytes; longer transfers get VIRTIO_SPI_PARAM_ERR. Default 65536. */
  readonly maxTransferLength?: number;
  /** Maximum requestq size (descriptors, 1..32768). Default 64. */
  readonly queueSize?: number;
  /** Ring and transport feature bits offered besides VIRTIO_F_VERSION_1. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED | RING_RESET. */
  readonly ringFeatures?: bigint;
}

/** Counters since construction, by result. */
export interface SpiStats {
  readonly ok: number;
  readonly paramErr: number;
  readonly transErr: number;
}

export const SPI_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

export class SpiDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_SPI_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 1;
  readonly configSize = VIRTIO_SPI_CONFIG_SIZE;
  readonly config: SpiConfig;

  readonly #bus: SpiBackend;
  readonly #space: SpiConfigSpace;
  readonly #maxLen: number;
  readonly #queueSize: number;
  #ctx: ActivateContext | undefined;
  /** A transfer is running on the backend: no other starts until it completes. */
  #running = false;
  /** Bumped by every reset and queue reset: a transfer from an older epoch is dropped. */
  #epoch = 0;
  #broken = false;
  #ok = 0;
  #paramErr = 0;
  #transErr = 0;

  /** @throws RangeError for out-of-range options or a configuration the spec does not allow */
  constructor(opts: SpiDeviceOptions) {
    const size = opts.queueSize ?? 64;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`spi: queueSize ${size} outside 1..32768`);
    const max = opts.maxTransferLength ?? SPI_DEFAULT_MAX_TRANSFER;
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`spi: maxTransferLength ${max}`);
    this.config = opts.config ?? SPI_DEFAULT_CONFIG;
    this.#space = new SpiConfigSpace(this.config);
    this.#bus = opts.bus;
    this.#maxLen = max;
    this.#queueSize = size;
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? SPI_DEFAULT_RING_FEATURES);
  }

  get stats(): SpiStats {
    return { ok: this.#ok, paramErr: this.#paramErr, transErr: this.#transErr };
  }

  queueMaxSize(index: number): number {
    return index === VIRTIO_SPI_REQUESTQ ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#space.read(offset, width);
  }

  /** The configuration is read-only. */
  writeConfig(): void {}

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#serve();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_SPI_REQUESTQ) this.#serve();
  }

  enableQueue(queueIndex: number): void {
    this.queueNotify(queueIndex);
  }

  /** Forgets a running transfer, whose result then touches no guest memory. */
  resetQueue(queueIndex: number): void {
    if (queueIndex === VIRTIO_SPI_REQUESTQ) this.#drop();
  }

  reset(): void {
    this.#drop();
    this.#ctx = undefined;
    this.#broken = false;
  }

  #drop(): void {
    this.#epoch++;
    this.#running = false;
  }

  /** Pops requests in order; each runs to completion before the next is popped. */
  #serve(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_SPI_REQUESTQ];
    if (!ctx || !q || this.#broken) return;
    let pushed = false;
    try {
      while (!this.#running && !this.#broken) {
        const chain = q.pop();
        if (chain === null) {
          if (q.enableNotifications()) continue;
          break;
        }
        pushed = this.#start(ctx, q, chain) || pushed;
      }
      if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_SPI_REQUESTQ);
    } catch (err) {
      this.#fail(ctx, err);
    }
  }

  /**
   * Checks a request and runs it: head and tx_buf device-readable, rx_buf and result
   * device-writable (result the last byte).
   * @returns whether the chain was pushed already (false while an asynchronous transfer runs)
   * @throws SpiRequestError when there is no device-writable byte for the result
   */
  #start(ctx: ActivateContext, q: DeviceQueue, chain: DescriptorChain): boolean {
    if (chain.writableLength < VIRTIO_SPI_TRANSFER_RESULT_SIZE) throw new SpiRequestError(`requestq chain ${chain.id} has no device-writable byte for the result`);
    const m = ctx.memory;
    if (chain.readableLength < VIRTIO_SPI_TRANSFER_HEAD_SIZE) return this.#finish(ctx, q, chain, VIRTIO_SPI_PARAM_ERR, undefined);
    const r = new ChainReader(m, chain.readable);
    const head = decodeTransferHead(r.readBytes(VIRTIO_SPI_TRANSFER_HEAD_SIZE));
    const txLen = chain.readableLength - VIRTIO_SPI_TRANSFER_HEAD_SIZE;
    const rxLen = chain.writableLength - VIRTIO_SPI_TRANSFER_RESULT_SIZE;
    // [spi.dev.3] [spi.dev.4] every parameter checked, tx_buf and rx_buf equal for full duplex.
    if (txLen > this.#maxLen || rxLen > this.#maxLen || checkTransfer(this.config, head, txLen, rxLen) !== null) {
      return this.#finish(ctx, q, chain, VIRTIO_SPI_PARAM_ERR, undefined);
    }
    // The backend gets copies: [spi.dev.2] tx_buf in guest memory is never written.
    const t: SpiTransfer = { head, tx: r.readBytes(txLen), rx: new Uint8Array(rxLen) };
    let result: boolean | Promise<boolean>;
    try {
      result = this.#bus.transfer(t);
    } catch {
      result = false;
    }
    if (typeof result === 'boolean') return this.#finish(ctx, q, chain, result ? VIRTIO_SPI_TRANS_OK : VIRTIO_SPI_TRANS_ERR, t.rx);
    this.#running = true;
    const epoch = this.#epoch;
    const done = (ok: boolean) => {
      if (epoch !== this.#epoch || ctx !== this.#ctx) return;
      this.#running = false;
      try {
        this.#finish(ctx, q, chain, ok === true ? VIRTIO_SPI_TRANS_OK : VIRTIO_SPI_TRANS_ERR, t.rx);
        if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_SPI_REQUESTQ);
      } catch (err) {
        this.#fail(ctx, err);
        return;
      }
      this.#serve();
    };
    result.then(done, () => done(false));
    return false;
  }

  /** Writes rx_buf (on success only) and the result, and returns the chain. @returns true */
  #finish(ctx: ActivateContext, q: DeviceQueue, chain: DescriptorChain, result: number, rx: Uint8Array | undefined): boolean {
    const w = new ChainWriter(ctx.memory, chain.writable);
    if (result === VIRTIO_SPI_TRANS_OK && rx) w.write(rx);
    w.skip(w.remaining - VIRTIO_SPI_TRANSFER_RESULT_SIZE);
    w.writeU8(result);
    q.push(chain, w.written);
    if (result === VIRTIO_SPI_TRANS_OK) this.#ok++;
    else if (result === VIRTIO_SPI_PARAM_ERR) this.#paramErr++;
    else this.#transErr++;
    return true;
  }

  #fail(ctx: ActivateContext, err: unknown): void {
    this.#broken = true;
    this.#drop();
    ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }
}
