/**
 * The virtio crypto device, device side (spec 5.9): CIPHER, HASH, MAC, AEAD and AKCIPHER services. The
 * controlq creates and destroys sessions, the data queues run operations with them (session
 * mode) or with parameters of their own (stateless mode). Requests use the formats without
 * VIRTIO_CRYPTO_F_REVISION_1 (fixed-length parts padded to 56 and 48 bytes) or, when the driver
 * accepts it, those of revision 1. Operations run asynchronously and complete in any order;
 * completions are gathered per microtask with one notification decision per queue.
 */
import {
  CompletionBatch,
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_CRYPTO,
  type ActivateContext,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue, type Segment } from '@virtio/ring';
import type { AeadBackend, AkcipherBackend, CipherBackend, HashBackend, MacBackend } from './backend.js';
import { CryptoConfigSpace, VIRTIO_CRYPTO_CONFIG_SIZE } from './config.js';
import { DESTROY_FLF } from './layout.js';
import { parseDataRequest, type Outcome } from './operations.js';
import {
  VIRTIO_CRYPTO_AEAD_CREATE_SESSION,
  VIRTIO_CRYPTO_AEAD_DESTROY_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_DESTROY_SESSION,
  VIRTIO_CRYPTO_CIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
  VIRTIO_CRYPTO_CREATE_SESSION_INPUT_SIZE,
  VIRTIO_CRYPTO_CTRL_HEADER_SIZE,
  VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
  VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE,
  VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE,
  VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
  VIRTIO_CRYPTO_F_MAC_STATELESS_MODE,
  VIRTIO_CRYPTO_F_REVISION_1,
  VIRTIO_CRYPTO_HASH_CREATE_SESSION,
  VIRTIO_CRYPTO_HASH_DESTROY_SESSION,
  VIRTIO_CRYPTO_MAC_CREATE_SESSION,
  VIRTIO_CRYPTO_MAC_DESTROY_SESSION,
  VIRTIO_CRYPTO_NOSPC,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_S_HW_READY,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
} from './protocol.js';
import { maxCipherKeyLen, parseCreateSession, type CryptoServices, type Session } from './sessions.js';

export const CRYPTO_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);

export interface CryptoDeviceOptions {
  /** The CIPHER service's engine; without it (or with no algorithm) CIPHER is not offered. */
  readonly backend?: CipherBackend;
  /** The HASH service's engine (e.g. `WebCryptoHashBackend`); not offered without it. */
  readonly hash?: HashBackend;
  /** The MAC service's engine (e.g. `WebCryptoMacBackend`); not offered without it. */
  readonly mac?: MacBackend;
  /** The AEAD service's engine (e.g. `WebCryptoAeadBackend`); not offered without it. */
  readonly aead?: AeadBackend;
  /** The AKCIPHER service's engine (e.g. `RsaAkcipherBackend`); not offered without it. */
  readonly akcipher?: AkcipherBackend;
  /** Data queues (max_dataqueues), 1..65535, default 1. */
  readonly dataQueues?: number;
  /** Maximum size of every queue, default 256. */
  readonly queueSize?: number;
  /** max_size: largest iv + src + dst of one request, in bytes (default 1 MiB). */
  readonly maxSize?: number;
  /** Most sessions open at once (default 1024); further creates fail with VIRTIO_CRYPTO_ERR. */
  readonly maxSessions?: number;
  /**
   * Offer VIRTIO_CRYPTO_F_REVISION_1 and, for each service offered, its
   * VIRTIO_CRYPTO_F_<SERVICE>_STATELESS_MODE (default true). Drivers that refuse them (Linux's)
   * use the original layouts.
   */
  readonly revision1?: boolean;
  readonly ringFeatures?: bigint;
}

/** The stateless-mode feature bit of each service. */
const STATELESS_BIT: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_SERVICE_CIPHER]: VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_HASH]: VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_MAC]: VIRTIO_CRYPTO_F_MAC_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_AEAD]: VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_AKCIPHER]: VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE,
};

/** Destroy opcodes and the service whose sessions each ends. */
const DESTROY_SERVICE: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION]: VIRTIO_CRYPTO_SERVICE_CIPHER,
  [VIRTIO_CRYPTO_HASH_DESTROY_SESSION]: VIRTIO_CRYPTO_SERVICE_HASH,
  [VIRTIO_CRYPTO_MAC_DESTROY_SESSION]: VIRTIO_CRYPTO_SERVICE_MAC,
  [VIRTIO_CRYPTO_AEAD_DESTROY_SESSION]: VIRTIO_CRYPTO_SERVICE_AEAD,
  [VIRTIO_CRYPTO_AKCIPHER_DESTROY_SESSION]: VIRTIO_CRYPTO_SERVICE_AKCIPHER,
};
const CREATE_OPCODES: ReadonlySet<number> = new Set([
  VIRTIO_CRYPTO_CIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_HASH_CREATE_SESSION,
  VIRTIO_CRYPTO_MAC_CREATE_SESSION,
  VIRTIO_CRYPTO_AEAD_CREATE_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION,
]);


export class CryptoDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_CRYPTO;
  readonly deviceFeatures: bigint;
  readonly numQueues: number;
  readonly configSize = VIRTIO_CRYPTO_CONFIG_SIZE;
  /** The CIPHER engine, if any. */
  readonly backend: CipherBackend | undefined;
  readonly #services: CryptoServices;
  readonly #offered: number;
  readonly #dataQueues: number;
  readonly #queueSize: number;
  readonly #maxSize: number;
  readonly #maxSessions: number;
  readonly #config: CryptoConfigSpace;
  readonly #sessions = new Map<bigint, Session>();
  #nextSession = 1n;
  #ctx: ActivateContext | undefined;
  /** VIRTIO_CRYPTO_F_REVISION_1 negotiated. */
  #revision1 = false;
  /** Services whose stateless mode was negotiated (bit per service). */
  #statelessServices = 0;
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
    // [crypto.dev.1] services and algorithm masks as implemented, only defined bits.
    const mask = (algos: readonly number[] | undefined, max: number) => {
      let m = 0n;
      for (const a of algos ?? []) if (Number.isInteger(a) && a > 0 && a <= max) m |= 1n << BigInt(a);
      return m;
    };
    const cipherAlgos = mask(opts.backend?.cipherAlgorithms, 14);
    const hashAlgos = Number(mask(opts.hash?.hashAlgorithms, 12));
    const macAlgos = mask(opts.mac?.macAlgorithms, 54);
    const aeadAlgos = Number(mask(opts.aead?.aeadAlgorithms, 3));
    const akcipherAlgos = Number(mask(opts.akcipher?.akcipherAlgorithms, 2));
    this.#services = {
      cipher: cipherAlgos !== 0n ? opts.backend : undefined,
      hash: hashAlgos !== 0 ? opts.hash : undefined,
      mac: macAlgos !== 0n ? opts.mac : undefined,
      aead: aeadAlgos !== 0 ? opts.aead : undefined,
      akcipher: akcipherAlgos !== 0 ? opts.akcipher : undefined,
    };
    const sv = this.#services;
    this.#offered =
      (sv.cipher ? 1 << VIRTIO_CRYPTO_SERVICE_CIPHER : 0) |
      (sv.hash ? 1 << VIRTIO_CRYPTO_SERVICE_HASH : 0) |
      (sv.mac ? 1 << VIRTIO_CRYPTO_SERVICE_MAC : 0) |
      (sv.aead ? 1 << VIRTIO_CRYPTO_SERVICE_AEAD : 0) |
      (sv.akcipher ? 1 << VIRTIO_CRYPTO_SERVICE_AKCIPHER : 0);
    this.#config = new CryptoConfigSpace({
      status: VIRTIO_CRYPTO_S_HW_READY,
      maxDataqueues: n,
      cryptoServices: this.#offered,
      cipherAlgos,
      hashAlgos,
      macAlgos,
      aeadAlgos,
      akcipherAlgos,
      maxCipherKeyLen: maxCipherKeyLen(sv),
      maxAuthKeyLen: sv.mac ? sv.mac.maxAuthKeyLen : 0,
      maxSize: this.#maxSize,
    });
    let f = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? CRYPTO_DEFAULT_RING_FEATURES);
    if (opts.revision1 !== false) {
      f |= featureMask(VIRTIO_CRYPTO_F_REVISION_1);
      for (const [service, bit] of Object.entries(STATELESS_BIT)) if ((this.#offered & (1 << Number(service))) !== 0) f |= featureMask(bit);
    }
    this.deviceFeatures = f;
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

  /** Refuses a stateless mode without VIRTIO_CRYPTO_F_REVISION_1, which it requires (spec 5.9.3.1). */
  validateFeatures(features: bigint): boolean {
    const stateless = Object.values(STATELESS_BIT).some((bit) => hasFeature(features, bit));
    return !stateless || hasFeature(features, VIRTIO_CRYPTO_F_REVISION_1);
  }

  activate(ctx: ActivateContext): void {
    this.#revision1 = hasFeature(ctx.features, VIRTIO_CRYPTO_F_REVISION_1);
    this.#statelessServices = 0;
    for (const [service, bit] of Object.entries(STATELESS_BIT)) if (hasFeature(ctx.features, bit)) this.#statelessServices |= 1 << Number(service);
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
    const destroys = DESTROY_SERVICE[opcode];
    if (destroys !== undefined) {
      let status = VIRTIO_CRYPTO_ERR;
      if (chain.readableLength >= VIRTIO_CRYPTO_CTRL_HEADER_SIZE + (this.#revision1 ? DESTROY_FLF : VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY)) {
        r.skip(VIRTIO_CRYPTO_CTRL_HEADER_SIZE - 4);
        // Only the service's own destroy opcode ends a session.
        const id = r.readU64();
        if (this.#sessions.get(id)?.service === destroys && this.#sessions.delete(id)) status = VIRTIO_CRYPTO_OK;
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
    if (opcode < 0) return this.#batch.add({ ctx, q, qi, chain, write: answer(VIRTIO_CRYPTO_ERR) });
    if (chain.readableLength < VIRTIO_CRYPTO_CTRL_HEADER_SIZE || chain.writableLength < VIRTIO_CRYPTO_CREATE_SESSION_INPUT_SIZE) {
      return this.#batch.add({ ctx, q, qi, chain, write: answer(CREATE_OPCODES.has(opcode) ? VIRTIO_CRYPTO_ERR : VIRTIO_CRYPTO_NOTSUPP) });
    }
    r.skip(VIRTIO_CRYPTO_CTRL_HEADER_SIZE - 4);
    const made = parseCreateSession(opcode, r, this.#services, this.#revision1);
    if (typeof made === 'number') return this.#batch.add({ ctx, q, qi, chain, write: answer(made) });
    this.#async(
      ctx,
      q,
      qi,
      chain,
      made.then(
        (session) => {
          if (!session) return answer(VIRTIO_CRYPTO_NOTSUPP);
          if (ctx !== this.#ctx) return answer(VIRTIO_CRYPTO_ERR);
          // No free session id: NOSPC exists only with VIRTIO_CRYPTO_F_REVISION_1.
          if (this.#sessions.size >= this.#maxSessions) return answer(this.#revision1 ? VIRTIO_CRYPTO_NOSPC : VIRTIO_CRYPTO_ERR);
          const id = this.#nextSession++;
          this.#sessions.set(id, session);
          return answer(VIRTIO_CRYPTO_OK, id);
        },
        () => answer(VIRTIO_CRYPTO_ERR),
      ),
    );
  }

  /** A data queue chain: virtio_crypto_op_data_req; the result goes to the start of the writable part, the status to its last byte. */
  #data(ctx: ActivateContext, q: DeviceQueue, qi: number, chain: DescriptorChain): void {
    const m = ctx.memory;
    const statusAddr = lastByte(chain.writable);
    if (statusAddr < 0) return this.#unanswerable(ctx, q, qi, chain);
    const dst = chain.writable;
    const complete = (o: Outcome) => (): number => {
      if (o.out) new ChainWriter(m, dst).write(o.out);
      m.writeU8(statusAddr, o.status);
      return (o.out?.length ?? 0) + 1;
    };
    const outcome = parseDataRequest(new ChainReader(m, chain.readable), chain.writableLength - 1, {
      session: (id) => this.#sessions.get(id),
      services: this.#services,
      maxSize: this.#maxSize,
      revision1: this.#revision1,
      stateless: (service) => (this.#statelessServices & (1 << service)) !== 0,
    });
    if (outcome instanceof Promise) this.#async(ctx, q, qi, chain, outcome.then(complete));
    else this.#batch.add({ ctx, q, qi, chain, write: complete(outcome) });
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
