/**
 * A virtio crypto driver (driver side of spec 5.9) for the CIPHER, HASH, MAC and AEAD services
 * in session mode: reads the configuration (status, max_dataqueues, crypto_services and the
 * algorithm masks of the services offered, [crypto.drv.2]), sends nothing while
 * VIRTIO_CRYPTO_S_HW_READY is clear and re-reads it after a reset ([crypto.drv.1]), keeps keys
 * within max_cipher_key_len / max_auth_key_len and requests within max_size, and uses only
 * session ids the device assigned, each with its own service's opcodes ([crypto.drv.3-6]).
 */
import {
  initializeDevice,
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverDevice,
  type DriverTransport,
  type FeatureDependency,
  type ResetWaitOptions,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory, Segment } from '@virtio/ring';
import { CryptoConfigOffset as O } from './config.js';
import { CREATE_FLF, DESTROY_FLF, SESSION_FLF, STATELESS_FLF, SYM_OP_TYPE_AT, SYM_OP_TYPE_AT_STATELESS } from './layout.js';
import {
  VIRTIO_CRYPTO_AEAD_CREATE_SESSION,
  VIRTIO_CRYPTO_AEAD_DECRYPT,
  VIRTIO_CRYPTO_AEAD_DESTROY_SESSION,
  VIRTIO_CRYPTO_AEAD_ENCRYPT,
  VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_DECRYPT,
  VIRTIO_CRYPTO_AKCIPHER_DESTROY_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_ENCRYPT,
  VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE,
  VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC,
  VIRTIO_CRYPTO_AKCIPHER_SIGN,
  VIRTIO_CRYPTO_AKCIPHER_VERIFY,
  VIRTIO_CRYPTO_CIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_CIPHER_DECRYPT,
  VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
  VIRTIO_CRYPTO_CIPHER_ENCRYPT,
  VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY,
  VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY,
  VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
  VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE,
  VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE,
  VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
  VIRTIO_CRYPTO_F_MAC_STATELESS_MODE,
  VIRTIO_CRYPTO_F_REVISION_1,
  VIRTIO_CRYPTO_FLAG_SESSION_MODE,
  VIRTIO_CRYPTO_HASH,
  VIRTIO_CRYPTO_HASH_CREATE_SESSION,
  VIRTIO_CRYPTO_HASH_DESTROY_SESSION,
  VIRTIO_CRYPTO_MAC,
  VIRTIO_CRYPTO_MAC_CREATE_SESSION,
  VIRTIO_CRYPTO_MAC_DESTROY_SESSION,
  VIRTIO_CRYPTO_OP_DECRYPT,
  VIRTIO_CRYPTO_OP_ENCRYPT,
  VIRTIO_CRYPTO_S_HW_READY,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
  VIRTIO_CRYPTO_SYM_OP_CIPHER,
} from './protocol.js';

/** Every feature this driver can use: revision 1 with each service's stateless mode, and the ring features. */
export const CRYPTO_DRIVER_FEATURES = featureMask(
  VIRTIO_CRYPTO_F_REVISION_1,
  VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE,
  VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
  VIRTIO_CRYPTO_F_MAC_STATELESS_MODE,
  VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
  VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_RING_PACKED,
);

/** Each stateless mode requires VIRTIO_CRYPTO_F_REVISION_1 (spec 5.9.3.1). */
const DEPENDENCIES: readonly FeatureDependency[] = [
  VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE,
  VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
  VIRTIO_CRYPTO_F_MAC_STATELESS_MODE,
  VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
  VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE,
].map((bit) => [bit, VIRTIO_CRYPTO_F_REVISION_1] as const);

const STATELESS_BIT: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_SERVICE_CIPHER]: VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_HASH]: VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_MAC]: VIRTIO_CRYPTO_F_MAC_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_AEAD]: VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
  [VIRTIO_CRYPTO_SERVICE_AKCIPHER]: VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE,
};

/** Largest IV this driver sends, in bytes. */
const MAX_IV = 64;
/** Largest key this driver sends, in bytes, whatever the device offers. */
const MAX_KEY = 1024;
/** Request header and largest op_flf, in bytes. */
const CTRL_REQ = 16 + 56;
const DATA_REQ = 24 + 80;

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
  /** HASH algorithms offered (bit mask over VIRTIO_CRYPTO_HASH_*), 0 without the HASH service. */
  readonly hashAlgos: number;
  /** MAC algorithms offered (bit mask over VIRTIO_CRYPTO_MAC_*), 0 without the MAC service. */
  readonly macAlgos: bigint;
  /** AEAD algorithms offered (bit mask over VIRTIO_CRYPTO_AEAD_*), 0 without the AEAD service. */
  readonly aeadAlgos: number;
  /** AKCIPHER algorithms offered (bit mask over VIRTIO_CRYPTO_AKCIPHER_*), 0 without the AKCIPHER service. */
  readonly akcipherAlgos: number;
  /** Largest CIPHER or AEAD key in bytes (0 when neither is offered). */
  readonly maxCipherKeyLen: number;
  /** Largest MAC key in bytes (0 without the MAC service). */
  readonly maxAuthKeyLen: number;
  /** max_size in bytes. */
  readonly maxSize: number;
}

/** What the driver remembers of a session the device created. */
interface DriverSession {
  readonly service: number;
  /** CIPHER, AEAD: the direction. */
  readonly encrypt?: boolean;
  /** HASH, MAC: hash_result_len; AEAD: tag_len. */
  readonly len?: number;
}

const DESTROY_OPCODE: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_SERVICE_CIPHER]: VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
  [VIRTIO_CRYPTO_SERVICE_HASH]: VIRTIO_CRYPTO_HASH_DESTROY_SESSION,
  [VIRTIO_CRYPTO_SERVICE_MAC]: VIRTIO_CRYPTO_MAC_DESTROY_SESSION,
  [VIRTIO_CRYPTO_SERVICE_AEAD]: VIRTIO_CRYPTO_AEAD_DESTROY_SESSION,
  [VIRTIO_CRYPTO_SERVICE_AKCIPHER]: VIRTIO_CRYPTO_AKCIPHER_DESTROY_SESSION,
};

/** An AKCIPHER operation; 'verify' checks a signature against signed data. */
export type AkcipherOp = 'encrypt' | 'decrypt' | 'sign' | 'verify';
const AKCIPHER_OPCODE: Readonly<Record<AkcipherOp, number>> = {
  encrypt: VIRTIO_CRYPTO_AKCIPHER_ENCRYPT,
  decrypt: VIRTIO_CRYPTO_AKCIPHER_DECRYPT,
  sign: VIRTIO_CRYPTO_AKCIPHER_SIGN,
  verify: VIRTIO_CRYPTO_AKCIPHER_VERIFY,
};

/** An RSA key and its parameters (virtio_crypto_rsa_session_para). */
export interface RsaKeySpec {
  readonly keyType: 'public' | 'private';
  /** The DER key (PKCS#1 RSAPublicKey or RSAPrivateKey) in device-readable guest memory. */
  readonly key: readonly Segment[];
  /** VIRTIO_CRYPTO_RSA_RAW_PADDING or VIRTIO_CRYPTO_RSA_PKCS1_PADDING. */
  readonly padding: number;
  /** VIRTIO_CRYPTO_RSA_* hash of signed digests (PKCS#1 padding). */
  readonly hash: number;
}

/** An AKCIPHER result: the status and, for encrypt/decrypt/sign, how many bytes of dst the device wrote. */
export interface AkcipherResult {
  readonly status: number;
  readonly length: number;
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
  /** Completion of each slot's request, given the used length. */
  readonly pending: (((len: number) => void) | undefined)[];
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
  /** Sessions the device assigned and that were not destroyed ([crypto.drv.3-6]). */
  readonly #sessions = new Map<bigint, DriverSession>();
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
      featureDependencies: DEPENDENCIES,
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
    const ctrlSlot = align8(CTRL_REQ + this.#maxKey()) + 16;
    this.#control = new SlotRing(controlIndex, ctrl, opts.allocator.alloc(ctrlSlot * ctrl.config.size, 8), ctrlSlot);
    for (let i = 0; i < controlIndex; i++) {
      const q = this.device.queues[i] as DriverQueue<number> | undefined;
      // A slot: header, op_flf, a stateless request's key, the IV, then the status byte.
      const slot = align8(DATA_REQ + this.#maxKey() + MAX_IV) + 8;
      if (q) this.#data.push(new SlotRing(i, q, opts.allocator.alloc(slot * q.config.size, 8), slot));
    }
  }

  #readConfig(): CryptoDriverConfig {
    return this.device.readConfig((c) => {
      const services = c.u32(O.crypto_services);
      const offers = (service: number) => (services & (1 << service)) !== 0;
      const cipher = offers(VIRTIO_CRYPTO_SERVICE_CIPHER);
      const mac = offers(VIRTIO_CRYPTO_SERVICE_MAC);
      const aead = offers(VIRTIO_CRYPTO_SERVICE_AEAD);
      return {
        hwReady: (c.u32(O.status) & VIRTIO_CRYPTO_S_HW_READY) !== 0,
        maxDataqueues: c.u32(O.max_dataqueues),
        cryptoServices: services,
        // [crypto.drv.2] algorithm masks only for the services offered.
        cipherAlgos: cipher ? BigInt(c.u32(O.cipher_algo_l)) | (BigInt(c.u32(O.cipher_algo_h)) << 32n) : 0n,
        hashAlgos: offers(VIRTIO_CRYPTO_SERVICE_HASH) ? c.u32(O.hash_algo) : 0,
        macAlgos: mac ? BigInt(c.u32(O.mac_algo_l)) | (BigInt(c.u32(O.mac_algo_h)) << 32n) : 0n,
        aeadAlgos: aead ? c.u32(O.aead_algo) : 0,
        akcipherAlgos: offers(VIRTIO_CRYPTO_SERVICE_AKCIPHER) ? c.u32(O.akcipher_algo) : 0,
        maxCipherKeyLen: cipher || aead ? c.u32(O.max_cipher_key_len) : 0,
        maxAuthKeyLen: mac ? c.u32(O.max_auth_key_len) : 0,
        maxSize: c.u32(O.max_size) + c.u32(O.max_size + 4) * 2 ** 32,
      };
    });
  }

  /** Largest key a create-session request carries, in bytes (bounded: the slots are allocated from it). */
  #maxKey(): number {
    return Math.min(Math.max(this.config.maxCipherKeyLen, this.config.maxAuthKeyLen), MAX_KEY);
  }

  /** VIRTIO_CRYPTO_F_REVISION_1 negotiated: requests use its layouts and set `flag`. */
  get revision1(): boolean {
    return hasFeature(this.device.features, VIRTIO_CRYPTO_F_REVISION_1);
  }

  /** Whether `service`'s stateless mode was negotiated. */
  statelessMode(service: number): boolean {
    const bit = STATELESS_BIT[service];
    return bit !== undefined && hasFeature(this.device.features, bit);
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
    const op = direction === 'encrypt' ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT;
    // virtio_crypto_sym_create_session_flf: cipher_session_flf (algo, key_len, op), op_type at 48.
    return this.#create(VIRTIO_CRYPTO_CIPHER_CREATE_SESSION, algo, [algo, key.length, op], key, { service: VIRTIO_CRYPTO_SERVICE_CIPHER, encrypt: direction === 'encrypt' }, VIRTIO_CRYPTO_SYM_OP_CIPHER);
  }

  /**
   * Creates a HASH session giving `resultLen`-byte digests (the leading bytes of the algorithm's).
   * @returns the device's status and, when VIRTIO_CRYPTO_OK, its session id
   * @throws (rejects) RangeError for an algorithm the device does not offer or a resultLen of 0
   */
  async createHashSession(algo: number, resultLen: number): Promise<{ status: number; sessionId: bigint }> {
    if (!offered(BigInt(this.config.hashAlgos), algo)) throw new RangeError(`crypto: hash algorithm ${algo} not offered`);
    if (!Number.isInteger(resultLen) || resultLen < 1 || resultLen > 0xffffffff) throw new RangeError(`crypto: hash_result_len ${resultLen}`);
    // virtio_crypto_hash_create_session_flf: algo, hash_result_len.
    return this.#create(VIRTIO_CRYPTO_HASH_CREATE_SESSION, algo, [algo, resultLen], new Uint8Array(0), { service: VIRTIO_CRYPTO_SERVICE_HASH, len: resultLen });
  }

  /**
   * Creates a MAC session keyed with `key`, giving `resultLen`-byte MACs.
   * @returns the device's status and, when VIRTIO_CRYPTO_OK, its session id
   * @throws (rejects) RangeError for an algorithm the device does not offer, a key over max_auth_key_len or a resultLen of 0
   */
  async createMacSession(algo: number, resultLen: number, key: Uint8Array): Promise<{ status: number; sessionId: bigint }> {
    if (!offered(this.config.macAlgos, algo)) throw new RangeError(`crypto: MAC algorithm ${algo} not offered`);
    // [crypto.drv.1] auth_key_len within max_auth_key_len.
    if (key.length > this.config.maxAuthKeyLen) throw new RangeError(`crypto: key of ${key.length} bytes exceeds max_auth_key_len ${this.config.maxAuthKeyLen}`);
    if (!Number.isInteger(resultLen) || resultLen < 1 || resultLen > 0xffffffff) throw new RangeError(`crypto: hash_result_len ${resultLen}`);
    // virtio_crypto_mac_create_session_flf: algo, hash_result_len, auth_key_len, padding.
    return this.#create(VIRTIO_CRYPTO_MAC_CREATE_SESSION, algo, [algo, resultLen, key.length], key, { service: VIRTIO_CRYPTO_SERVICE_MAC, len: resultLen });
  }

  /**
   * Creates an AEAD session in one direction with `tagLen`-byte tags.
   * @returns the device's status and, when VIRTIO_CRYPTO_OK, its session id
   * @throws (rejects) RangeError for an algorithm the device does not offer or a key over max_cipher_key_len
   */
  async createAeadSession(algo: number, key: Uint8Array, tagLen: number, direction: 'encrypt' | 'decrypt', aadLen = 0): Promise<{ status: number; sessionId: bigint }> {
    if (!offered(BigInt(this.config.aeadAlgos), algo)) throw new RangeError(`crypto: AEAD algorithm ${algo} not offered`);
    if (key.length > this.config.maxCipherKeyLen) throw new RangeError(`crypto: key of ${key.length} bytes exceeds max_cipher_key_len ${this.config.maxCipherKeyLen}`);
    const op = direction === 'encrypt' ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT;
    // virtio_crypto_aead_create_session_flf: algo, key_len, tag_len, aad_len, op, padding.
    return this.#create(VIRTIO_CRYPTO_AEAD_CREATE_SESSION, algo, [algo, key.length, tagLen, aadLen, op], key, { service: VIRTIO_CRYPTO_SERVICE_AEAD, encrypt: direction === 'encrypt', len: tagLen });
  }

  /** A create-session request: header, `flf` words padded to 56 bytes (op_type at 48 if given), the key, a 16-byte outcome. */
  #create(opcode: number, algo: number, flf: readonly number[], key: Uint8Array | readonly Segment[], session: DriverSession, opType?: number): Promise<{ status: number; sessionId: bigint }> {
    const inline = key instanceof Uint8Array ? key : new Uint8Array(0);
    const keySegs = key instanceof Uint8Array ? [] : key;
    if (inline.length > this.#maxKey()) return Promise.reject(new RangeError(`crypto: key of ${inline.length} bytes exceeds this driver's ${this.#maxKey()}`));
    const m = this.memory;
    // op_flf: padded to 56 bytes without VIRTIO_CRYPTO_F_REVISION_1, its structure's length with it.
    const head = 16 + (this.revision1 ? CREATE_FLF[opcode] : VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY);
    return this.#submit(this.#control, (a) => {
      m.write(a, new Uint8Array(CTRL_REQ));
      m.writeU32(a, opcode);
      m.writeU32(a + 4, algo);
      flf.forEach((v, i) => m.writeU32(a + 16 + 4 * i, v));
      if (opType !== undefined) m.writeU32(a + 16 + 48, opType);
      m.write(a + head, inline);
      const input = a + align8(CTRL_REQ + this.#maxKey());
      m.writeU64(input, 0);
      m.writeU32(input + 8, 0xff);
      return {
        out: [{ addr: a, len: head + inline.length }, ...keySegs],
        in: [{ addr: input, len: 16 }],
        done: () => {
          const status = m.readU32(input + 8);
          const sessionId = m.readU64(input);
          if (status === 0) this.#sessions.set(sessionId, session);
          return { status, sessionId };
        },
      };
    });
  }

  /** Destroys a session the device created, with its service's destroy opcode ([crypto.drv.5]); resolves with the status byte. */
  destroySession(sessionId: bigint): Promise<number> {
    const session = this.#sessions.get(sessionId);
    if (!session) return Promise.reject(new RangeError(`crypto: session ${sessionId} was not created by the device`));
    this.#sessions.delete(sessionId);
    const m = this.memory;
    return this.#submit(this.#control, (a) => {
      m.write(a, new Uint8Array(CTRL_REQ));
      m.writeU32(a, DESTROY_OPCODE[session.service]);
      m.writeU64(a + 16, sessionId);
      const st = a + CTRL_REQ;
      m.writeU8(st, 0xff);
      const len = 16 + (this.revision1 ? DESTROY_FLF : VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY);
      return { out: [{ addr: a, len }], in: [{ addr: st, len: 1 }], done: () => m.readU8(st) };
    });
  }

  /**
   * Encrypts or decrypts the device-readable `src` into the device-writable `dst` (same total
   * length) with a session of that direction. Resolves with the status byte.
   * @throws (rejects) RangeError for a session the device did not create, mismatched lengths,
   * an IV over 64 bytes or a request over max_size
   */
  cipher(sessionId: bigint, direction: 'encrypt' | 'decrypt', iv: Uint8Array, src: readonly Segment[], dst: readonly Segment[], queue = 0): Promise<number> {
    const [srcLen, dstLen] = [total(src), total(dst)];
    const session = this.#sessions.get(sessionId);
    if (session?.service !== VIRTIO_CRYPTO_SERVICE_CIPHER) return Promise.reject(new RangeError(`crypto: session ${sessionId} was not created by the device as a CIPHER session`));
    if (srcLen !== dstLen) return Promise.reject(new RangeError('crypto: src and dst lengths differ'));
    if (iv.length > MAX_IV) return Promise.reject(new RangeError(`crypto: IV of ${iv.length} bytes`));
    if (iv.length + srcLen + dstLen > this.config.maxSize) return Promise.reject(new RangeError(`crypto: request over max_size ${this.config.maxSize}`));
    // virtio_crypto_sym_data_flf: cipher_data_flf (iv_len, src_data_len, dst_data_len), op_type at 40.
    const opcode = direction === 'encrypt' ? VIRTIO_CRYPTO_CIPHER_ENCRYPT : VIRTIO_CRYPTO_CIPHER_DECRYPT;
    return this.#dataRequest(queue, opcode, VIRTIO_CRYPTO_SERVICE_CIPHER, sessionId, [iv.length, srcLen, dstLen], [iv], src, dst, VIRTIO_CRYPTO_SYM_OP_CIPHER);
  }

  /**
   * Hashes the device-readable `src` with a HASH session ([crypto.drv.3]); the digest
   * (the session's hash_result_len bytes) lands in the device-writable `result`.
   * Resolves with the status byte.
   * @throws (rejects) RangeError for a session the device did not create as a HASH session,
   * a `result` of another length or a request over max_size
   */
  hash(sessionId: bigint, src: readonly Segment[], result: readonly Segment[], queue = 0): Promise<number> {
    return this.#digest(VIRTIO_CRYPTO_SERVICE_HASH, VIRTIO_CRYPTO_HASH, sessionId, src, result, queue);
  }

  /**
   * MACs the device-readable `src` with a MAC session ([crypto.drv.4]); the MAC (the session's
   * hash_result_len bytes) lands in the device-writable `result`. Resolves with the status byte.
   * @throws (rejects) RangeError as {@link hash}, for MAC sessions
   */
  mac(sessionId: bigint, src: readonly Segment[], result: readonly Segment[], queue = 0): Promise<number> {
    return this.#digest(VIRTIO_CRYPTO_SERVICE_MAC, VIRTIO_CRYPTO_MAC, sessionId, src, result, queue);
  }

  #digest(service: number, opcode: number, sessionId: bigint, src: readonly Segment[], result: readonly Segment[], queue: number): Promise<number> {
    const session = this.#sessions.get(sessionId);
    const name = service === VIRTIO_CRYPTO_SERVICE_HASH ? 'HASH' : 'MAC';
    if (session?.service !== service) return Promise.reject(new RangeError(`crypto: session ${sessionId} was not created by the device as a ${name} session`));
    const srcLen = total(src);
    const resultLen = total(result);
    if (resultLen !== session.len) return Promise.reject(new RangeError(`crypto: result of ${resultLen} bytes for hash_result_len ${session.len}`));
    if (srcLen + resultLen > this.config.maxSize) return Promise.reject(new RangeError(`crypto: request over max_size ${this.config.maxSize}`));
    // virtio_crypto_hash_data_flf: src_data_len, hash_result_len.
    return this.#dataRequest(queue, opcode, service, sessionId, [srcLen, resultLen], [], src, result);
  }

  /**
   * Encrypts (ciphertext and tag into `dst`, which must hold src + tag_len bytes) or decrypts
   * (`src` is ciphertext then tag; the plaintext, src - tag_len bytes, into `dst`) with an AEAD
   * session of that direction ([crypto.drv.6]); `aad` is authenticated, not encrypted.
   * Resolves with the status byte (VIRTIO_CRYPTO_BADMSG when a tag does not verify).
   * @throws (rejects) RangeError for a session the device did not create as such, a `dst` of
   * another length, an IV over 64 bytes or a request over max_size
   */
  aead(sessionId: bigint, direction: 'encrypt' | 'decrypt', iv: Uint8Array, src: readonly Segment[], aad: readonly Segment[], dst: readonly Segment[], queue = 0): Promise<number> {
    const session = this.#sessions.get(sessionId);
    if (session?.service !== VIRTIO_CRYPTO_SERVICE_AEAD || session.encrypt !== (direction === 'encrypt')) {
      return Promise.reject(new RangeError(`crypto: session ${sessionId} was not created by the device as an AEAD ${direction} session`));
    }
    const tagLen = session.len ?? 0;
    const [srcLen, aadLen, dstLen] = [total(src), total(aad), total(dst)];
    if (dstLen !== (direction === 'encrypt' ? srcLen + tagLen : srcLen - tagLen)) return Promise.reject(new RangeError('crypto: dst length does not match src and tag_len'));
    if (iv.length > MAX_IV) return Promise.reject(new RangeError(`crypto: IV of ${iv.length} bytes`));
    if (iv.length + srcLen + aadLen + dstLen > this.config.maxSize) return Promise.reject(new RangeError(`crypto: request over max_size ${this.config.maxSize}`));
    // virtio_crypto_aead_data_flf: iv_len, aad_len, src_data_len, dst_data_len, tag_len, reserved.
    const opcode = direction === 'encrypt' ? VIRTIO_CRYPTO_AEAD_ENCRYPT : VIRTIO_CRYPTO_AEAD_DECRYPT;
    return this.#dataRequest(queue, opcode, VIRTIO_CRYPTO_SERVICE_AEAD, sessionId, [iv.length, aadLen, srcLen, dstLen, tagLen], [iv], [...src, ...aad], dst);
  }

  /**
   * Encrypts or decrypts `src` into `dst` (same length) in stateless mode: the algorithm, key and
   * direction travel with the request ([crypto.drv.5]: flag 0, sess_para set). Resolves with the
   * status byte.
   * @throws (rejects) RangeError without VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE, for an algorithm
   * not offered, a key over max_cipher_key_len, mismatched lengths, an IV over 64 bytes or a request over max_size
   */
  cipherStateless(algo: number, key: Uint8Array, direction: 'encrypt' | 'decrypt', iv: Uint8Array, src: readonly Segment[], dst: readonly Segment[], queue = 0): Promise<number> {
    const [srcLen, dstLen] = [total(src), total(dst)];
    const bad =
      this.#statelessCheck(VIRTIO_CRYPTO_SERVICE_CIPHER, this.config.cipherAlgos, algo, key, this.config.maxCipherKeyLen) ??
      (srcLen !== dstLen ? 'src and dst lengths differ' : this.#sizeCheck(key.length + iv.length + srcLen + dstLen, iv));
    if (bad) return Promise.reject(new RangeError(`crypto: ${bad}`));
    const opcode = direction === 'encrypt' ? VIRTIO_CRYPTO_CIPHER_ENCRYPT : VIRTIO_CRYPTO_CIPHER_DECRYPT;
    const op = direction === 'encrypt' ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT;
    // virtio_crypto_cipher_data_flf_stateless: sess_para (algo, key_len, op), iv_len, src_data_len, dst_data_len.
    return this.#dataRequest(queue, opcode, VIRTIO_CRYPTO_SERVICE_CIPHER, null, [algo, key.length, op, iv.length, srcLen, dstLen], [key, iv], src, dst, VIRTIO_CRYPTO_SYM_OP_CIPHER);
  }

  /**
   * Hashes `src` in stateless mode ([crypto.drv.3]); the leading `result`-length bytes of the
   * digest land in `result`. @throws (rejects) RangeError without VIRTIO_CRYPTO_F_HASH_STATELESS_MODE,
   * for an algorithm not offered, an empty result or a request over max_size
   */
  hashStateless(algo: number, src: readonly Segment[], result: readonly Segment[], queue = 0): Promise<number> {
    const [srcLen, resultLen] = [total(src), total(result)];
    const bad = this.#statelessCheck(VIRTIO_CRYPTO_SERVICE_HASH, BigInt(this.config.hashAlgos), algo, new Uint8Array(0), 0) ?? (resultLen < 1 ? 'an empty hash result' : this.#sizeCheck(srcLen + resultLen));
    if (bad) return Promise.reject(new RangeError(`crypto: ${bad}`));
    // virtio_crypto_hash_data_flf_stateless: sess_para (algo), src_data_len, hash_result_len, reserved.
    return this.#dataRequest(queue, VIRTIO_CRYPTO_HASH, VIRTIO_CRYPTO_SERVICE_HASH, null, [algo, srcLen, resultLen], [], src, result);
  }

  /**
   * MACs `src` in stateless mode with `key` ([crypto.drv.4]). @throws (rejects) RangeError as
   * {@link hashStateless}, and for a key over max_auth_key_len
   */
  macStateless(algo: number, key: Uint8Array, src: readonly Segment[], result: readonly Segment[], queue = 0): Promise<number> {
    const [srcLen, resultLen] = [total(src), total(result)];
    const bad = this.#statelessCheck(VIRTIO_CRYPTO_SERVICE_MAC, this.config.macAlgos, algo, key, this.config.maxAuthKeyLen) ?? (resultLen < 1 ? 'an empty MAC result' : this.#sizeCheck(key.length + srcLen + resultLen));
    if (bad) return Promise.reject(new RangeError(`crypto: ${bad}`));
    // virtio_crypto_mac_data_flf_stateless: sess_para (algo, auth_key_len), src_data_len, hash_result_len.
    return this.#dataRequest(queue, VIRTIO_CRYPTO_MAC, VIRTIO_CRYPTO_SERVICE_MAC, null, [algo, key.length, srcLen, resultLen], [key], src, result);
  }

  /**
   * {@link aead} in stateless mode ([crypto.drv.6]): algorithm, key, direction and tag length
   * travel with the request. @throws (rejects) RangeError without VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE,
   * for an algorithm not offered, a key over max_cipher_key_len, a `dst` of another length, an IV
   * over 64 bytes or a request over max_size
   */
  aeadStateless(algo: number, key: Uint8Array, tagLen: number, direction: 'encrypt' | 'decrypt', iv: Uint8Array, src: readonly Segment[], aad: readonly Segment[], dst: readonly Segment[], queue = 0): Promise<number> {
    const [srcLen, aadLen, dstLen] = [total(src), total(aad), total(dst)];
    const bad =
      this.#statelessCheck(VIRTIO_CRYPTO_SERVICE_AEAD, BigInt(this.config.aeadAlgos), algo, key, this.config.maxCipherKeyLen) ??
      (dstLen !== (direction === 'encrypt' ? srcLen + tagLen : srcLen - tagLen) ? 'dst length does not match src and tag_len' : this.#sizeCheck(key.length + iv.length + srcLen + aadLen + dstLen, iv));
    if (bad) return Promise.reject(new RangeError(`crypto: ${bad}`));
    const opcode = direction === 'encrypt' ? VIRTIO_CRYPTO_AEAD_ENCRYPT : VIRTIO_CRYPTO_AEAD_DECRYPT;
    const op = direction === 'encrypt' ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT;
    // virtio_crypto_aead_data_flf_stateless: sess_para (algo, key_len, op), iv_len, tag_len, aad_len, src_data_len, dst_data_len.
    return this.#dataRequest(queue, opcode, VIRTIO_CRYPTO_SERVICE_AEAD, null, [algo, key.length, op, iv.length, tagLen, aadLen, srcLen, dstLen], [key, iv], [...src, ...aad], dst);
  }

  /**
   * Creates an AKCIPHER session (RSA: `VIRTIO_CRYPTO_AKCIPHER_RSA`) from a DER key in guest memory.
   * @returns the device's status and, when VIRTIO_CRYPTO_OK, its session id
   * @throws (rejects) RangeError for an algorithm the device does not offer
   */
  async createAkcipherSession(algo: number, spec: RsaKeySpec): Promise<{ status: number; sessionId: bigint }> {
    if (!offered(BigInt(this.config.akcipherAlgos), algo)) throw new RangeError(`crypto: AKCIPHER algorithm ${algo} not offered`);
    const keyType = spec.keyType === 'public' ? VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC : VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE;
    // virtio_crypto_akcipher_create_session_flf: algo, key_type, key_len, algo_flf (rsa_session_para: padding_algo, hash_algo).
    return this.#create(VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION, algo, [algo, keyType, total(spec.key), spec.padding, spec.hash], spec.key, { service: VIRTIO_CRYPTO_SERVICE_AKCIPHER });
  }

  /**
   * Runs an AKCIPHER operation with a session ([crypto.drv.7]): encrypt, decrypt and sign read
   * `src` and write the result into `dst` (the device reports how much it wrote); verify reads the
   * signature from `src` and the signed data (usually a digest) from `dst`, which stays
   * device-readable. @returns the status (verify: VIRTIO_CRYPTO_KEY_REJECTED for a bad signature)
   * and the result length
   * @throws (rejects) RangeError for a session the device did not create as an AKCIPHER session or a request over max_size
   */
  akcipher(sessionId: bigint, op: AkcipherOp, src: readonly Segment[], dst: readonly Segment[], queue = 0): Promise<AkcipherResult> {
    if (this.#sessions.get(sessionId)?.service !== VIRTIO_CRYPTO_SERVICE_AKCIPHER) {
      return Promise.reject(new RangeError(`crypto: session ${sessionId} was not created by the device as an AKCIPHER session`));
    }
    const bad = this.#sizeCheck(total(src) + total(dst));
    if (bad) return Promise.reject(new RangeError(`crypto: ${bad}`));
    // virtio_crypto_akcipher_data_flf: src_data_len, dst_data_len.
    return this.#akcipherRequest(queue, op, sessionId, [total(src), total(dst)], [], src, dst);
  }

  /**
   * {@link akcipher} in stateless mode ([crypto.drv.7]): the algorithm, key and its parameters
   * travel with the request. @throws (rejects) RangeError without VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE,
   * for an algorithm not offered or a request (key included) over max_size
   */
  akcipherStateless(algo: number, spec: RsaKeySpec, op: AkcipherOp, src: readonly Segment[], dst: readonly Segment[], queue = 0): Promise<AkcipherResult> {
    const keyLen = total(spec.key);
    const bad =
      this.#statelessCheck(VIRTIO_CRYPTO_SERVICE_AKCIPHER, BigInt(this.config.akcipherAlgos), algo, new Uint8Array(0), 0) ?? this.#sizeCheck(keyLen + total(src) + total(dst));
    if (bad) return Promise.reject(new RangeError(`crypto: ${bad}`));
    const keyType = spec.keyType === 'public' ? VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC : VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE;
    // virtio_crypto_akcipher_data_flf_stateless: sess_para (algo, key_type, key_len, rsa_session_para), src_data_len, dst_data_len.
    return this.#akcipherRequest(queue, op, null, [algo, keyType, keyLen, spec.padding, spec.hash, total(src), total(dst)], spec.key, src, dst);
  }

  #akcipherRequest(queue: number, op: AkcipherOp, sessionId: bigint | null, flf: readonly number[], key: readonly Segment[], src: readonly Segment[], dst: readonly Segment[]): Promise<AkcipherResult> {
    const verify = op === 'verify';
    // VERIFY: src_data is the signature then the signed data; dst_data is empty.
    const readable = verify ? [...key, ...src, ...dst] : [...key, ...src];
    return this.#dataRequest(queue, AKCIPHER_OPCODE[op], VIRTIO_CRYPTO_SERVICE_AKCIPHER, sessionId, flf, [], readable, verify ? [] : dst, undefined, true);
  }

  /** Why a stateless request of `service` may not be sent, or undefined. */
  #statelessCheck(service: number, algos: bigint, algo: number, key: Uint8Array, maxKey: number): string | undefined {
    if (!this.statelessMode(service)) return `the stateless mode of service ${service} was not negotiated`;
    if (!offered(algos, algo)) return `algorithm ${algo} not offered`;
    if (key.length > maxKey || key.length > this.#maxKey()) return `key of ${key.length} bytes exceeds ${maxKey}`;
    return undefined;
  }

  /** [crypto.drv.1] the variable-length parameters within max_size; the IV within the slot. */
  #sizeCheck(vlf: number, iv?: Uint8Array): string | undefined {
    if (iv && iv.length > MAX_IV) return `IV of ${iv.length} bytes`;
    return vlf > this.config.maxSize ? `request over max_size ${this.config.maxSize}` : undefined;
  }

  /**
   * A data request: header (session mode: the session id, and `flag` VIRTIO_CRYPTO_FLAG_SESSION_MODE
   * with revision 1; stateless, `sessionId` null: flag 0), `flf` words in op_flf (padded to 48
   * bytes without revision 1; op_type at its place if given), the `inline` bytes (key, IV) from
   * the slot, then `readable`; `writable` then the status byte.
   */
  #dataRequest(
    queue: number,
    opcode: number,
    service: number,
    sessionId: bigint | null,
    flf: readonly number[],
    inline: readonly Uint8Array[],
    readable: readonly Segment[],
    writable: readonly Segment[],
    opType?: number,
  ): Promise<number>;
  #dataRequest(
    queue: number,
    opcode: number,
    service: number,
    sessionId: bigint | null,
    flf: readonly number[],
    inline: readonly Uint8Array[],
    readable: readonly Segment[],
    writable: readonly Segment[],
    opType: number | undefined,
    withLength: true,
  ): Promise<AkcipherResult>;
  #dataRequest(
    queue: number,
    opcode: number,
    service: number,
    sessionId: bigint | null,
    flf: readonly number[],
    inline: readonly Uint8Array[],
    readable: readonly Segment[],
    writable: readonly Segment[],
    opType?: number,
    withLength = false,
  ): Promise<number | AkcipherResult> {
    const rq = this.#data[queue];
    if (!rq) return Promise.reject(new RangeError(`crypto: no data queue ${queue}`));
    const rev1 = this.revision1;
    const flfLen = sessionId === null ? STATELESS_FLF[service] : rev1 ? SESSION_FLF[service] : VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY;
    const head = 24 + flfLen;
    const m = this.memory;
    return this.#submit(rq, (a) => {
      m.write(a, new Uint8Array(DATA_REQ));
      m.writeU32(a, opcode);
      m.writeU64(a + 8, sessionId ?? 0n);
      m.writeU32(a + 16, sessionId !== null && rev1 ? VIRTIO_CRYPTO_FLAG_SESSION_MODE : 0);
      flf.forEach((v, i) => m.writeU32(a + 24 + 4 * i, v));
      if (opType !== undefined) m.writeU32(a + 24 + (sessionId === null ? SYM_OP_TYPE_AT_STATELESS : SYM_OP_TYPE_AT), opType);
      let at = a + head;
      for (const bytes of inline) {
        m.write(at, bytes);
        at += bytes.length;
      }
      const st = rq.slab + (Math.floor((a - rq.slab) / rq.slotSize) + 1) * rq.slotSize - 1;
      m.writeU8(st, 0xff);
      const dstLen = total(writable);
      return {
        out: [{ addr: a, len: at - a }, ...readable],
        in: [...writable, { addr: st, len: 1 }],
        // The used length counts the result and the status byte: never believe more than dst holds.
        done: (len: number) => (withLength ? { status: m.readU8(st), length: Math.max(0, Math.min(len - 1, dstLen)) } : m.readU8(st)),
      };
    });
  }

  #submit<T>(rq: SlotRing, build: (addr: number) => { out: Segment[]; in: Segment[]; done: (len: number) => T }): Promise<T> {
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
        rq.pending[slot] = (len) => resolve(req.done(len));
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
            done?.(used.len);
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
const total = (segs: readonly Segment[]) => segs.reduce((n, s) => n + s.len, 0);
const offered = (mask: bigint, algo: number) => Number.isInteger(algo) && algo > 0 && algo < 64 && (mask & (1n << BigInt(algo))) !== 0n;
