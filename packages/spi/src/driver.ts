/**
 * The SPI controller device, driver side (spec 5.21): reads the controller's configuration and
 * sends each transfer as head, tx_buf, rx_buf, result, in that order.
 */
import { DriverDevice, featureMask, initializeDevice, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, type DriverTransport } from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory, Segment } from '@virtio/ring';
import { readSpiConfig, type SpiConfig } from './config.js';
import { VIRTIO_SPI_REQUESTQ, VIRTIO_SPI_TRANS_OK, VIRTIO_SPI_TRANSFER_HEAD_SIZE, VIRTIO_SPI_TRANSFER_RESULT_SIZE } from './protocol.js';
import { encodeTransferHead, type SpiTransferHead } from './transfer.js';

export interface SpiDriverOptions {
  /** Guest memory holding the ring and the request buffers. */
  readonly memory: GuestMemory;
  /** Allocates the ring and (freed after use) the request buffers. */
  readonly allocator: GuestAllocator;
  /** Requested requestq size (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** Ring features the driver accepts when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
}

/** One transfer: parameters (defaults: 8-bit words, mode 0, SINGLE, no delays) and the data. */
export interface SpiTransferRequest extends Partial<Omit<SpiTransferHead, 'chipSelectId'>> {
  readonly chipSelect: number;
  /** Bytes to send (half-duplex write, or full duplex with `rxLength`). */
  readonly tx?: Uint8Array;
  /** Bytes to receive (half-duplex read, or full duplex: then equal to tx's length). */
  readonly rxLength?: number;
}

/** The device answered VIRTIO_SPI_PARAM_ERR or VIRTIO_SPI_TRANS_ERR (`result`). */
export class SpiTransferError extends Error {
  override readonly name = 'SpiTransferError';
  constructor(readonly result: number) {
    super(`spi: transfer failed with result ${result}`);
  }
}

/** Why a transfer failed without an answer: the device was reset or needs a reset. */
export class SpiDriverError extends Error {
  override readonly name = 'SpiDriverError';
}

interface Pending {
  readonly head: Uint8Array;
  readonly tx: Uint8Array;
  readonly rxLength: number;
  addr: number;
  resolve(rx: Uint8Array): void;
  reject(err: Error): void;
}

export class SpiDriver {
  readonly device: DriverDevice;
  /** The controller's capabilities, read at initialization. */
  readonly config: SpiConfig;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #backlog: Pending[] = [];
  readonly #inFlight = new Set<Pending>();
  #closed: Error | undefined;

  private constructor(device: DriverDevice, config: SpiConfig, opts: SpiDriverOptions) {
    this.device = device;
    this.config = config;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
  }

  /** Initializes the SPI controller behind `transport` (spec 3.1.1, 5.21.5). @throws DeviceInitError */
  static initialize(transport: DriverTransport, opts: SpiDriverOptions): SpiDriver {
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED),
      queues: [{ index: VIRTIO_SPI_REQUESTQ, size: opts.queueSize }],
    });
    return new SpiDriver(device, device.readConfig(readSpiConfig), opts);
  }

  /** Transfers on the ring or waiting for room. */
  get pending(): number {
    return this.#inFlight.size + this.#backlog.length;
  }

  /**
   * Sends one transfer; resolves with the received bytes (empty for a half-duplex write).
   * @throws RangeError (synchronously) for a full-duplex transfer whose tx and rx lengths differ
   * ([spi.drv.4]) or fields out of range; rejects with SpiTransferError for a result other than
   * VIRTIO_SPI_TRANS_OK (rx_buf then unused, [spi.drv.5]) and SpiDriverError on reset
   */
  transfer(req: SpiTransferRequest): Promise<Uint8Array> {
    const tx = req.tx ?? new Uint8Array(0);
    const rxLength = req.rxLength ?? 0;
    if (!Number.isInteger(rxLength) || rxLength < 0) throw new RangeError(`spi: rxLength ${rxLength}`);
    if (tx.length > 0 && rxLength > 0 && tx.length !== rxLength) throw new RangeError(`spi: full-duplex tx ${tx.length} and rx ${rxLength} bytes differ`);
    const u8 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xff;
    const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
    const h: SpiTransferHead = {
      chipSelectId: req.chipSelect,
      bitsPerWord: req.bitsPerWord ?? 8,
      csChange: req.csChange ?? 0,
      txNbits: req.txNbits ?? 0,
      rxNbits: req.rxNbits ?? 0,
      mode: req.mode ?? 0,
      freq: req.freq ?? 0,
      wordDelayNs: req.wordDelayNs ?? 0,
      csSetupNs: req.csSetupNs ?? 0,
      csDelayHoldNs: req.csDelayHoldNs ?? 0,
      csChangeDelayInactiveNs: req.csChangeDelayInactiveNs ?? 0,
    };
    if (![h.chipSelectId, h.bitsPerWord, h.csChange, h.txNbits, h.rxNbits].every(u8) || ![h.mode, h.freq, h.wordDelayNs, h.csSetupNs, h.csDelayHoldNs, h.csChangeDelayInactiveNs].every(u32)) {
      throw new RangeError('spi: transfer parameter out of range');
    }
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#backlog.push({ head: encodeTransferHead(h), tx, rxLength, addr: 0, resolve, reject });
      this.#submit();
    });
  }

  /** Half-duplex write of `data` to `chipSelect`. */
  async write(chipSelect: number, data: Uint8Array, opts: Omit<SpiTransferRequest, 'chipSelect' | 'tx' | 'rxLength'> = {}): Promise<void> {
    await this.transfer({ ...opts, chipSelect, tx: data });
  }

  /** Half-duplex read of `len` bytes from `chipSelect`. */
  read(chipSelect: number, len: number, opts: Omit<SpiTransferRequest, 'chipSelect' | 'tx' | 'rxLength'> = {}): Promise<Uint8Array> {
    return this.transfer({ ...opts, chipSelect, rxLength: len });
  }

  /** Full-duplex transfer: sends `data`, receives as many bytes. */
  exchange(chipSelect: number, data: Uint8Array, opts: Omit<SpiTransferRequest, 'chipSelect' | 'tx' | 'rxLength'> = {}): Promise<Uint8Array> {
    return this.transfer({ ...opts, chipSelect, tx: data, rxLength: data.length });
  }

  /** Call when the device interrupts: completes returned transfers. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new SpiDriverError('spi: the device needs a reset'));
      return;
    }
    if (ev.usedBuffer) this.#reap();
  }

  /** Resets the device; pending transfers reject and their buffers are freed. */
  reset(): void {
    this.device.reset();
    this.#close(new SpiDriverError('spi: device reset'));
  }

  get #queue(): DriverQueue<Pending> | undefined {
    return this.device.queues[VIRTIO_SPI_REQUESTQ] as DriverQueue<Pending> | undefined;
  }

  #submit(): void {
    const q = this.#queue;
    if (!q) return;
    const m = this.#memory;
    let added = false;
    while (this.#backlog.length > 0) {
      const p = this.#backlog[0];
      const H = VIRTIO_SPI_TRANSFER_HEAD_SIZE;
      const tx = p.tx.length;
      try {
        p.addr = this.#allocator.alloc(H + tx + p.rxLength + VIRTIO_SPI_TRANSFER_RESULT_SIZE, 8);
      } catch (err) {
        if (this.#inFlight.size > 0) break; // memory frees up as transfers complete
        this.#backlog.shift();
        p.reject(err as Error);
        continue;
      }
      const a = p.addr;
      m.write(a, p.head);
      m.write(a + H, p.tx);
      m.writeU8(a + H + tx + p.rxLength, 0xff);
      // [spi.drv.1] [spi.drv.2] [spi.drv.3] head, tx_buf, rx_buf, result, in that order; absent buffers left out.
      const out: Segment[] = [{ addr: a, len: H }];
      if (tx > 0) out.push({ addr: a + H, len: tx });
      const inSegs: Segment[] = [];
      if (p.rxLength > 0) inSegs.push({ addr: a + H + tx, len: p.rxLength });
      inSegs.push({ addr: a + H + tx + p.rxLength, len: VIRTIO_SPI_TRANSFER_RESULT_SIZE });
      if (!q.add(out, inSegs, p)) {
        this.#allocator.free(a);
        break;
      }
      this.#backlog.shift();
      this.#inFlight.add(p);
      added = true;
    }
    if (added) this.device.kick(VIRTIO_SPI_REQUESTQ);
  }

  #reap(): void {
    const q = this.#queue;
    if (!q) return;
    const m = this.#memory;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const p = used.token;
        if (!this.#inFlight.delete(p)) continue;
        const rxAt = p.addr + VIRTIO_SPI_TRANSFER_HEAD_SIZE + p.tx.length;
        const result = m.readU8(rxAt + p.rxLength);
        if (result === VIRTIO_SPI_TRANS_OK) {
          const rx = new Uint8Array(p.rxLength);
          m.read(rxAt, rx);
          p.resolve(rx);
        } else {
          // [spi.drv.5] rx_buf of a failed transfer is not used.
          p.reject(new SpiTransferError(result));
        }
        this.#allocator.free(p.addr);
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
    for (const p of this.#backlog.splice(0)) p.reject(err);
  }
}
