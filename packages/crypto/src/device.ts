/**
 * The virtio crypto device, device side (spec 5.9), CIPHER service in session mode: the
 * controlq creates and destroys cipher sessions, the data queues encrypt and decrypt with them.
 * Requests use the formats without VIRTIO_CRYPTO_F_REVISION_1 (fixed-length parts padded to 56
 * and 48 bytes), which this device never offers, nor any stateless mode. Operations run
 * asynchronously and complete in any order; completions are gathered per microtask with one
 * notification decision per queue.
 */
import {
  CompletionBatch,
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_CRYPTO,
  type ActivateContext,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue, type Segment } from '@virtio/ring';
import type { CipherBackend, CipherSession } from './backend.js';
import { CryptoConfigSpace, VIRTIO_CRYPTO_CONFIG_SIZE } from './config.js';
import {
  VIRTIO_CRYPTO_CIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_CIPHER_DECRYPT,
  VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
  VIRTIO_CRYPTO_CIPHER_ENCRYPT,
  VIRTIO_CRYPTO_CREATE_SESSION_INPUT_SIZE,
  VIRTIO_CRYPTO_CTRL_HEADER_SIZE,
  VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY,
  VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_INVSESS,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_OP_DECRYPT,
  VIRTIO_CRYPTO_OP_ENCRYPT,
  VIRTIO_CRYPTO_OP_HEADER_SIZE,
  VIRTIO_CRYPTO_S_HW_READY,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SYM_DATA_REQ_HDR_SIZE,
  VIRTIO_CRYPTO_SYM_OP_CIPHER,
  VIRTIO_CRYPTO_SYM_SESS_OP_SPEC_HDR_SIZE,
} from './protocol.js';

export const CRYPTO_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);

export interface CryptoDeviceOptions {
  readonly backend: CipherBackend;
  /** Data queues (max_dataqueues), 1..65535, default 1. */
  readonly dataQueues?: number;
  /** Maximum size of every queue, default 256. */
  readonly queueSize?: number;
  /** max_size: largest iv + src + dst of one request, in bytes (default 1 MiB). */
  readonly maxSize?: number;
  /** Most sessions open at once (default 1024); further creates fail with VIRTIO_CRYPTO_ERR. */
  readonly maxSessions?: number;
  readonly ringFeatures?: bigint;
}

interface Session {
  readonly encrypt: boolean;
  readonly cipher: CipherSession;
}


const CTRL_REQ_SIZE = VIRTIO_CRYPTO_CTRL_HEADER_SIZE + VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY;
const DATA_REQ_SIZE = VIRTIO_CRYPTO_OP_HEADER_SIZE + VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY;

export class CryptoDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_CRYPTO;
  readonly deviceFeatures: bigint;
  readonly numQueues: number;
  readonly configSize = VIRTIO_CRYPTO_CONFIG_SIZE;
  readonly backend: CipherBackend;
  readonly #dataQueues: number;
  readonly #queueSize: number;
  readonly #maxSize: number;
  readonly #maxSessions: number;
  readonly #config: CryptoConfigSpace;
  readonly #sessions = new Map<bigint, Session>();
  #nextSession = 1n;
  #ctx: ActivateContext | undefined;
  #queues: (DeviceQueue | undefined)[] = [];
  readonly #batch: CompletionBatch;
  #pending = 0;
  #idle: (() => void)[] = [];

  /** @throws RangeError for options outside their ranges */
  constructor(opts: CryptoDeviceOptions) {
    this.backend = opts.backend;
    const n = opts.dataQueues ?? 1;
    // [crypto.dev.1] max_dataqueues between 1 and 65535.
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RangeError(`crypto: max_dataqueues ${n} outside 1..65535`);
    this.#dataQueues = n;
    this.numQueues = n + 1;
    this.#queueSize = opts.queueSize ?? 256;
    this.#maxSize = opts.maxSize ?? 1 << 20;
    this.#maxSessions = opts.maxSessions ?? 1024;
    if (!Number.isSafeInteger(this.#maxSize) || this.#maxSize < 0) throw new RangeError(`crypto: max_size ${this.#maxSize}`);
    let algos = 0n;
    for (const a of opts.backend.cipherAlgorithms) if (a > 0 && a <= 14) algos |= 1n << BigInt(a);
    this.#config = new CryptoConfigSpace({
      status: VIRTIO_CRYPTO_S_HW_READY,
      maxDataqueues: n,
      cryptoServices: algos !== 0n ? 1 << VIRTIO_CRYPTO_SERVICE_CIPHER : 0,
      cipherAlgos: algos,
      maxCipherKeyLen: algos !== 0n ? opts.backend.maxCipherKeyLen : 0,
      maxSize: this.#maxSize,
    });
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? CRYPTO_DEFAULT_RING_FEATURES);
    this.#batch = new CompletionBatch(this.numQueues, { ctx: () => this.#ctx, queue: (i) => this.#queues[i] });
  }

  /** Index of the controlq (after the data queues). */
  get controlQueue(): number {
    return this.#dataQueues;
  }

  /** Sessions open. */
  get sessions(): number {
    return this.#sessions.size;
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < this.numQueues ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  /** Every field is read-only: writes are ignored. */
  writeConfig(): void {}

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#queues = ctx.queues.slice();
    for (let i = 0; i < this.numQueues; i++) this.#drain(i);
  }

  queueNotify(queueIndex: number): void {
    this.#drain(queueIndex);
  }

  /**
   * Drops every session and every result not yet written. @returns a promise settling when no
   * operation from before the reset is still running (they never touch guest memory after it)
   */
  reset(): void | Promise<void> {
    this.#ctx = undefined;
    this.#queues = [];
    this.#batch.clear();
    this.#sessions.clear();
    this.#nextSession = 1n;
    return this.#pending > 0 ? new Promise((resolve) => this.#idle.push(resolve)) : undefined;
  }

  #drain(qi: number): void {
    const ctx = this.#ctx;
    const q = this.#queues[qi];
    if (!ctx || !q) return;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) {
          if (qi === this.#dataQueues) this.#control(ctx, q, qi, chain);
          else this.#data(ctx, q, qi, chain);
        }
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      ctx.needsReset(err as Error);
    }
  }

  /** Runs `work` (async) and completes the chain with what it returns, unless a reset came first. */
  #async(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain, work: Promise<() => number>): void {
    this.#pending++;
    work.then(
      (write) => this.#settled(ctx, q, qi, chain, write),
      () => this.#settled(ctx, q, qi, chain, () => 0),
    );
  }

  #settled(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain, write: () => number): void {
    if (--this.#pending === 0) for (const r of this.#idle.splice(0)) r();
    this.#batch.add({ ctx, q, qi, chain, write });
  }

  /** A controlq chain: virtio_crypto_op_ctrl_req. */
  #control(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain): void {
    const m = ctx.memory;
    const w = chain.writable;
    if (chain.writableLength < 1) return this.#unanswerable(ctx, q, qi, chain);
    const r = new ChainReader(m, chain.readable);
    const opcode = chain.readableLength >= 4 ? r.readU32() : -1;
    if (opcode === VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION) {
      let status = VIRTIO_CRYPTO_ERR;
      if (chain.readableLength >= CTRL_REQ_SIZE) {
        r.skip(VIRTIO_CRYPTO_CTRL_HEADER_SIZE - 4);
        if (this.#sessions.delete(r.readU64())) status = VIRTIO_CRYPTO_OK;
      }
      // virtio_crypto_destroy_session_input: one status byte.
      return this.#batch.add({ ctx, q, qi, chain, write: () => (m.writeU8(w[0].addr, status), 1) });
    }
    // virtio_crypto_create_session_input: session_id, status, padding (status alone if shorter).
    const answer = (status: number, id = 0n) => (): number => {
      if (chain.writableLength < VIRTIO_CRYPTO_CREATE_SESSION_INPUT_SIZE) {
        m.writeU8(w[0].addr, status);
        return 1;
      }
      const cw = new ChainWriter(m, w);
      cw.writeU64(id);
      cw.writeU32(status);
      cw.writeU32(0);
      return cw.written;
    };
    if (opcode !== VIRTIO_CRYPTO_CIPHER_CREATE_SESSION) return this.#batch.add({ ctx, q, qi, chain, write: answer(opcode < 0 ? VIRTIO_CRYPTO_ERR : VIRTIO_CRYPTO_NOTSUPP) });
    if (chain.readableLength < CTRL_REQ_SIZE || chain.writableLength < VIRTIO_CRYPTO_CREATE_SESSION_INPUT_SIZE) {
      return this.#batch.add({ ctx, q, qi, chain, write: answer(VIRTIO_CRYPTO_ERR) });
    }
    r.skip(VIRTIO_CRYPTO_CTRL_HEADER_SIZE - 4);
    // virtio_crypto_sym_create_session_flf: op_flf[48] (cipher_session_flf), op_type.
    const algo = r.readU32();
    const keyLen = r.readU32();
    const op = r.readU32();
    r.skip(VIRTIO_CRYPTO_SYM_SESS_OP_SPEC_HDR_SIZE - 12);
    const opType = r.readU32();
    r.skip(4);
    if (opType !== VIRTIO_CRYPTO_SYM_OP_CIPHER) return this.#batch.add({ ctx, q, qi, chain, write: answer(VIRTIO_CRYPTO_NOTSUPP) });
    if ((op !== VIRTIO_CRYPTO_OP_ENCRYPT && op !== VIRTIO_CRYPTO_OP_DECRYPT) || keyLen > this.backend.maxCipherKeyLen || keyLen > r.remaining) {
      return this.#batch.add({ ctx, q, qi, chain, write: answer(VIRTIO_CRYPTO_ERR) });
    }
    if (!this.backend.cipherAlgorithms.includes(algo)) return this.#batch.add({ ctx, q, qi, chain, write: answer(VIRTIO_CRYPTO_NOTSUPP) });
    const key = r.readBytes(keyLen);
    const encrypt = op === VIRTIO_CRYPTO_OP_ENCRYPT;
    this.#async(
      ctx,
      q,
      qi,
      chain,
      this.backend.createCipherSession(algo, key, encrypt).then(
        (cipher) => {
          if (!cipher) return answer(VIRTIO_CRYPTO_NOTSUPP);
          if (ctx !== this.#ctx || this.#sessions.size >= this.#maxSessions) return answer(VIRTIO_CRYPTO_ERR);
          const id = this.#nextSession++;
          this.#sessions.set(id, { encrypt, cipher });
          return answer(VIRTIO_CRYPTO_OK, id);
        },
        () => answer(VIRTIO_CRYPTO_ERR),
      ),
    );
  }

  /** A data queue chain: virtio_crypto_op_data_req for CIPHER_ENCRYPT / CIPHER_DECRYPT. */
  #data(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain): void {
    const m = ctx.memory;
    const statusAddr = lastByte(chain.writable);
    if (statusAddr < 0) return this.#unanswerable(ctx, q, qi, chain);
    const status = (s: number, written = 0) => () => (m.writeU8(statusAddr, s), written + 1);
    if (chain.readableLength < DATA_REQ_SIZE) return this.#batch.add({ ctx, q, qi, chain, write: status(VIRTIO_CRYPTO_ERR) });
    const r = new ChainReader(m, chain.readable);
    const opcode = r.readU32();
    r.skip(4); // algo
    const sessionId = r.readU64();
    r.skip(8); // flag (ignored without REVISION_1), padding
    // virtio_crypto_sym_data_flf: op_type_flf[40] (cipher_data_flf), op_type.
    const ivLen = r.readU32();
    const srcLen = r.readU32();
    const dstLen = r.readU32();
    r.skip(VIRTIO_CRYPTO_SYM_DATA_REQ_HDR_SIZE - 12);
    const opType = r.readU32();
    r.skip(4);
    if (opcode !== VIRTIO_CRYPTO_CIPHER_ENCRYPT && opcode !== VIRTIO_CRYPTO_CIPHER_DECRYPT) return this.#batch.add({ ctx, q, qi, chain, write: status(VIRTIO_CRYPTO_NOTSUPP) });
    if (opType !== VIRTIO_CRYPTO_SYM_OP_CIPHER) return this.#batch.add({ ctx, q, qi, chain, write: status(VIRTIO_CRYPTO_NOTSUPP) });
    const session = this.#sessions.get(sessionId);
    if (!session) return this.#batch.add({ ctx, q, qi, chain, write: status(VIRTIO_CRYPTO_INVSESS) });
    const fits = ivLen + srcLen <= r.remaining && dstLen <= chain.writableLength - 1 && ivLen + srcLen + dstLen <= this.#maxSize;
    if (!fits || dstLen !== srcLen || session.encrypt !== (opcode === VIRTIO_CRYPTO_CIPHER_ENCRYPT)) {
      return this.#batch.add({ ctx, q, qi, chain, write: status(VIRTIO_CRYPTO_ERR) });
    }
    const iv = r.readBytes(ivLen);
    const src = r.readBytes(srcLen);
    const dst = chain.writable;
    this.#async(
      ctx,
      q,
      qi,
      chain,
      session.cipher.run(iv, src).then(
        (out) => () => {
          if (out.length !== dstLen) return status(VIRTIO_CRYPTO_ERR)();
          new ChainWriter(m, dst).write(out);
          return status(VIRTIO_CRYPTO_OK, dstLen)();
        },
        () => status(VIRTIO_CRYPTO_ERR),
      ),
    );
  }

  #unanswerable(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain): void {
    this.#batch.add({ ctx, q, qi, chain, write: () => 0 });
    ctx.needsReset(new Error(`crypto: chain ${chain.id} has no device-writable byte for its status`));
  }
}

function lastByte(segs: readonly Segment[]): number {
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i].len > 0) return segs[i].addr + segs[i].len - 1;
  return -1;
}
