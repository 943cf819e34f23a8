/**
 * A virtio crypto driver (driver side of spec 5.9) for the CIPHER service in session mode:
 * reads the configuration (status, max_dataqueues, crypto_services and the CIPHER algorithm
 * mask, [crypto.drv.2]), sends nothing while VIRTIO_CRYPTO_S_HW_READY is clear and re-reads it
 * after a reset ([crypto.drv.1]), keeps keys within max_cipher_key_len and requests within
 * max_size, and uses only session ids the device assigned ([crypto.drv.5]).
 */
import { initializeDevice, featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, type DriverDevice, type DriverTransport, type ResetWaitOptions } from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory, Segment } from '@virtio/ring';
import { CryptoConfigOffset as O } from './config.js';
import {
  VIRTIO_CRYPTO_CIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_CIPHER_DECRYPT,
  VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
  VIRTIO_CRYPTO_CIPHER_ENCRYPT,
  VIRTIO_CRYPTO_OP_DECRYPT,
  VIRTIO_CRYPTO_OP_ENCRYPT,
  VIRTIO_CRYPTO_S_HW_READY,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SYM_OP_CIPHER,
} from './protocol.js';

export const CRYPTO_DRIVER_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);

/** Largest IV this driver sends, in bytes. */
const MAX_IV = 64;
const CTRL_REQ = 72;
const DATA_REQ = 72;

export interface CryptoDriverOptions {
  readonly memory: GuestMemory;
  readonly allocator: GuestAllocator;
  readonly wantedFeatures?: bigint;
  /** Data queues to use, at most max_dataqueues (default 1). */
  readonly queues?: number;
  readonly queueSize?: number;
}

/** The configuration as read at initialization (status re-read by {@link CryptoDriver.refreshStatus}). */
export interface CryptoDriverConfig {
  readonly hwReady: boolean;
  readonly maxDataqueues: number;
  readonly cryptoServices: number;
  /** CIPHER algorithms offered (bit mask over VIRTIO_CRYPTO_CIPHER_*), 0 without the CIPHER service. */
  readonly cipherAlgos: bigint;
  readonly maxCipherKeyLen: number;
  readonly maxSize: number;
}

export class CryptoDriverError extends Error {
  constructor(
    readonly code: 'not-ready' | 'needs-reset' | 'reset' | 'bad-device',
    message: string,
  ) {
    super(`crypto: ${message}`);
    this.name = 'CryptoDriverError';
  }
}

class SlotRing {
  readonly free: number[] = [];
  readonly pending: (((slot: number) => void) | undefined)[];
  readonly rejecters: (((e: Error) => void) | undefined)[];
  readonly waiting: { go: () => boolean; reject: (e: Error) => void }[] = [];
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
}

export class CryptoDriver {
  readonly device: DriverDevice;
  readonly memory: GuestMemory;
  config: CryptoDriverConfig;
  readonly #data: SlotRing[] = [];
  readonly #control: SlotRing;
  /** Session ids the device assigned and that were not destroyed ([crypto.drv.5]). */
  readonly #sessions = new Set<bigint>();
  #failed: Error | undefined;

  /** @throws DeviceInitError when the device is not usable */
  constructor(transport: DriverTransport, opts: CryptoDriverOptions) {
    this.memory = opts.memory;
    const queues: { index: number; size?: number }[] = [];
    let controlIndex = 0;
    this.device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: opts.wantedFeatures ?? CRYPTO_DRIVER_FEATURES,
      queues,
      checkConfig: (c) => {
        // [crypto.drv.2] every virtqueue is configured: all data queues and the controlq.
        const max = c.u32(O.max_dataqueues);
        const n = Math.min(max, opts.queues ?? max);
        for (let i = 0; i < n; i++) queues.push({ index: i, size: opts.queueSize });
        controlIndex = max;
        queues.push({ index: max, size: opts.queueSize });
        return n >= 1 && max <= 65535;
      },
    });
    this.config = this.#readConfig();
    const ctrl = this.device.queues[controlIndex] as DriverQueue<number>;
    const ctrlSlot = align8(CTRL_REQ + this.config.maxCipherKeyLen) + 16;
    this.#control = new SlotRing(controlIndex, ctrl, opts.allocator.alloc(ctrlSlot * ctrl.config.size, 8), ctrlSlot);
    for (let i = 0; i < controlIndex; i++) {
      const q = this.device.queues[i] as DriverQueue<number> | undefined;
      if (q) this.#data.push(new SlotRing(i, q, opts.allocator.alloc((DATA_REQ + MAX_IV + 8) * q.config.size, 8), DATA_REQ + MAX_IV + 8));
    }
  }

  #readConfig(): CryptoDriverConfig {
    return this.device.readConfig((c) => {
      const services = c.u32(O.crypto_services);
      const cipher = (services & (1 << VIRTIO_CRYPTO_SERVICE_CIPHER)) !== 0;
      return {
        hwReady: (c.u32(O.status) & VIRTIO_CRYPTO_S_HW_READY) !== 0,
        maxDataqueues: c.u32(O.max_dataqueues),
        cryptoServices: services,
        // [crypto.drv.2] algorithm masks only for the services offered.
        cipherAlgos: cipher ? BigInt(c.u32(O.cipher_algo_l)) | (BigInt(c.u32(O.cipher_algo_h)) << 32n) : 0n,
        maxCipherKeyLen: cipher ? c.u32(O.max_cipher_key_len) : 0,
        maxSize: c.u32(O.max_size) + c.u32(O.max_size + 4) * 2 ** 32,
      };
    });
  }

  /** Re-reads `status` (VIRTIO_CRYPTO_S_HW_READY); @returns whether the device is ready. */
  refreshStatus(): boolean {
    this.config = { ...this.config, hwReady: (this.device.readConfig((c) => c.u32(O.status)) & VIRTIO_CRYPTO_S_HW_READY) !== 0 };
    return this.config.hwReady;
  }

  /** Data queues in use. */
  get numQueues(): number {
    return this.#data.length;
  }

  /**
   * Creates a CIPHER session. @returns the device's status and, when VIRTIO_CRYPTO_OK, its session id
   * @throws (rejects) RangeError for an algorithm the device does not offer or a key over max_cipher_key_len
   */
  async createCipherSession(algo: number, key: Uint8Array, direction: 'encrypt' | 'decrypt'): Promise<{ status: number; sessionId: bigint }> {
    if (algo <= 0 || algo > 63 || (this.config.cipherAlgos & (1n << BigInt(algo))) === 0n) throw new RangeError(`crypto: cipher algorithm ${algo} not offered`);
    if (key.length > this.config.maxCipherKeyLen) throw new RangeError(`crypto: key of ${key.length} bytes exceeds max_cipher_key_len ${this.config.maxCipherKeyLen}`);
    const m = this.memory;
    return this.#submit(this.#control, (a) => {
      m.write(a, new Uint8Array(CTRL_REQ));
      m.writeU32(a, VIRTIO_CRYPTO_CIPHER_CREATE_SESSION);
      m.writeU32(a + 4, algo);
      m.writeU32(a + 16, algo);
      m.writeU32(a + 20, key.length);
      m.writeU32(a + 24, direction === 'encrypt' ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT);
      m.writeU32(a + 16 + 48, VIRTIO_CRYPTO_SYM_OP_CIPHER);
      m.write(a + CTRL_REQ, key);
      const input = a + align8(CTRL_REQ + this.config.maxCipherKeyLen);
      m.writeU64(input, 0);
      m.writeU32(input + 8, 0xff);
      return {
        out: [{ addr: a, len: CTRL_REQ + key.length }],
        in: [{ addr: input, len: 16 }],
        done: () => {
          const status = m.readU32(input + 8);
          const sessionId = m.readU64(input);
          if (status === 0) this.#sessions.add(sessionId);
          return { status, sessionId };
        },
      };
    });
  }

  /** Destroys a session the device created ([crypto.drv.5]); resolves with the status byte. */
  destroySession(sessionId: bigint): Promise<number> {
    if (!this.#sessions.delete(sessionId)) return Promise.reject(new RangeError(`crypto: session ${sessionId} was not created by the device`));
    const m = this.memory;
    return this.#submit(this.#control, (a) => {
      m.write(a, new Uint8Array(CTRL_REQ));
      m.writeU32(a, VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION);
      m.writeU64(a + 16, sessionId);
      const st = a + CTRL_REQ;
      m.writeU8(st, 0xff);
      return { out: [{ addr: a, len: CTRL_REQ }], in: [{ addr: st, len: 1 }], done: () => m.readU8(st) };
    });
  }

  /**
   * Encrypts or decrypts the device-readable `src` into the device-writable `dst` (same total
   * length) with a session of that direction. Resolves with the status byte.
   * @throws (rejects) RangeError for a session the device did not create, mismatched lengths,
   * an IV over 64 bytes or a request over max_size
   */
  cipher(sessionId: bigint, direction: 'encrypt' | 'decrypt', iv: Uint8Array, src: readonly Segment[], dst: readonly Segment[], queue = 0): Promise<number> {
    const srcLen = src.reduce((n, s) => n + s.len, 0);
    const dstLen = dst.reduce((n, s) => n + s.len, 0);
    if (!this.#sessions.has(sessionId)) return Promise.reject(new RangeError(`crypto: session ${sessionId} was not created by the device`));
    if (srcLen !== dstLen) return Promise.reject(new RangeError('crypto: src and dst lengths differ'));
    if (iv.length > MAX_IV) return Promise.reject(new RangeError(`crypto: IV of ${iv.length} bytes`));
    if (iv.length + srcLen + dstLen > this.config.maxSize) return Promise.reject(new RangeError(`crypto: request over max_size ${this.config.maxSize}`));
    const rq = this.#data[queue];
    if (!rq) return Promise.reject(new RangeError(`crypto: no data queue ${queue}`));
    const m = this.memory;
    return this.#submit(rq, (a) => {
      m.write(a, new Uint8Array(DATA_REQ));
      m.writeU32(a, direction === 'encrypt' ? VIRTIO_CRYPTO_CIPHER_ENCRYPT : VIRTIO_CRYPTO_CIPHER_DECRYPT);
      m.writeU64(a + 8, sessionId);
      m.writeU32(a + 24, iv.length);
      m.writeU32(a + 28, srcLen);
      m.writeU32(a + 32, dstLen);
      m.writeU32(a + 24 + 40, VIRTIO_CRYPTO_SYM_OP_CIPHER);
      m.write(a + DATA_REQ, iv);
      const st = a + DATA_REQ + MAX_IV;
      m.writeU8(st, 0xff);
      const out: Segment[] = [{ addr: a, len: DATA_REQ + iv.length }, ...src];
      return { out, in: [...dst, { addr: st, len: 1 }], done: () => m.readU8(st) };
    });
  }

  #submit<T>(rq: SlotRing, build: (addr: number) => { out: Segment[]; in: Segment[]; done: () => T }): Promise<T> {
    if (this.#failed) return Promise.reject(this.#failed);
    // [crypto.drv.1] nothing is transmitted while HW_READY is clear.
    if (!this.config.hwReady) return Promise.reject(new CryptoDriverError('not-ready', 'VIRTIO_CRYPTO_S_HW_READY is not set'));
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        const slot = rq.free.pop();
        if (slot === undefined) return false;
        const req = build(rq.slab + slot * rq.slotSize);
        if (!rq.ring.add(req.out, req.in, slot)) {
          rq.free.push(slot);
          if (rq.free.length < rq.pending.length) return false;
          reject(new RangeError('crypto: the request never fits the queue'));
          return true;
        }
        rq.pending[slot] = () => resolve(req.done());
        rq.rejecters[slot] = reject;
        if (!rq.kickScheduled) {
          rq.kickScheduled = true;
          queueMicrotask(() => {
            rq.kickScheduled = false;
            if (!this.#failed) this.device.kick(rq.index);
          });
        }
        return true;
      };
      if (rq.waiting.length > 0 || !attempt()) rq.waiting.push({ go: attempt, reject });
    });
  }

  /** Call when the device's interrupt fires. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) this.#fail(new CryptoDriverError('needs-reset', 'the device set DEVICE_NEEDS_RESET'));
    this.poll();
  }

  /** Completes every used request. */
  poll(): void {
    if (this.#failed) return;
    try {
      for (const rq of [this.#control, ...this.#data]) {
        do {
          let used;
          while ((used = rq.ring.reap()) !== null) {
            const done = rq.pending[used.token];
            rq.pending[used.token] = undefined;
            rq.rejecters[used.token] = undefined;
            rq.free.push(used.token);
            done?.(used.token);
          }
        } while (rq.ring.enableInterrupts());
        while (rq.waiting.length > 0 && rq.free.length > 0 && rq.waiting[0].go()) rq.waiting.shift();
      }
    } catch (err) {
      this.#fail(new CryptoDriverError('bad-device', (err as Error).message));
    }
  }

  /** Resets the device; outstanding requests reject. Resolves when the device reads status 0. */
  reset(opts?: ResetWaitOptions): Promise<void> {
    this.#fail(new CryptoDriverError('reset', 'the driver reset the device'));
    this.#sessions.clear();
    return this.device.resetAsync(opts);
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const rq of [this.#control, ...this.#data]) {
      for (let i = 0; i < rq.rejecters.length; i++) {
        const r = rq.rejecters[i];
        rq.pending[i] = undefined;
        rq.rejecters[i] = undefined;
        r?.(err);
      }
      for (const w of rq.waiting.splice(0)) w.reject(err);
    }
  }
}

const align8 = (n: number) => (n + 7) & ~7;
