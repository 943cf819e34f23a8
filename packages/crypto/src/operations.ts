/**
 * Data-queue requests (spec 5.9.7.3-5.9.7.7) of the CIPHER, HASH, MAC, AEAD and AKCIPHER services: in
 * session mode, in the layout without VIRTIO_CRYPTO_F_REVISION_1 (op_flf padded to 48 bytes) or
 * with it (op_flf as long as its structure), and in stateless mode (session parameters in the
 * request, VIRTIO_CRYPTO_F_<SERVICE>_STATELESS_MODE).
 */
import type { ChainReader } from '@virtio/ring';
import { SESSION_FLF, STATELESS_FLF, SYM_OP_TYPE_AT, SYM_OP_TYPE_AT_STATELESS } from './layout.js';
import { MAX_AKCIPHER_KEY, maxCipherKeyLen, type CryptoServices, type Session } from './sessions.js';
import {
  VIRTIO_CRYPTO_AEAD_DECRYPT,
  VIRTIO_CRYPTO_AEAD_ENCRYPT,
  VIRTIO_CRYPTO_AKCIPHER_DECRYPT,
  VIRTIO_CRYPTO_AKCIPHER_ENCRYPT,
  VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE,
  VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC,
  VIRTIO_CRYPTO_AKCIPHER_SIGN,
  VIRTIO_CRYPTO_AKCIPHER_VERIFY,
  VIRTIO_CRYPTO_BADMSG,
  VIRTIO_CRYPTO_CIPHER_DECRYPT,
  VIRTIO_CRYPTO_CIPHER_ENCRYPT,
  VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_FLAG_SESSION_MODE,
  VIRTIO_CRYPTO_HASH,
  VIRTIO_CRYPTO_INVSESS,
  VIRTIO_CRYPTO_KEY_REJECTED,
  VIRTIO_CRYPTO_MAC,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_OP_DECRYPT,
  VIRTIO_CRYPTO_OP_ENCRYPT,
  VIRTIO_CRYPTO_OP_HEADER_SIZE,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
  VIRTIO_CRYPTO_SYM_OP_CIPHER,
} from './protocol.js';

/** What a request yields: its status and the bytes for the start of the device-writable part. */
export interface Outcome {
  readonly status: number;
  readonly out?: Uint8Array;
}

/** What a data request needs besides its bytes. */
export interface DataContext {
  readonly session: (id: bigint) => Session | undefined;
  /** The engines of the services offered (a service without one is NOTSUPP). */
  readonly services: CryptoServices;
  /** max_size in bytes. */
  readonly maxSize: number;
  /** VIRTIO_CRYPTO_F_REVISION_1 negotiated: op_flf as long as its structure, `flag` parsed. */
  readonly revision1: boolean;
  /** Whether VIRTIO_CRYPTO_F_<service>_STATELESS_MODE was negotiated. */
  readonly stateless: (service: number) => boolean;
}

const SERVICE_OF: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_CIPHER_ENCRYPT]: VIRTIO_CRYPTO_SERVICE_CIPHER,
  [VIRTIO_CRYPTO_CIPHER_DECRYPT]: VIRTIO_CRYPTO_SERVICE_CIPHER,
  [VIRTIO_CRYPTO_HASH]: VIRTIO_CRYPTO_SERVICE_HASH,
  [VIRTIO_CRYPTO_MAC]: VIRTIO_CRYPTO_SERVICE_MAC,
  [VIRTIO_CRYPTO_AEAD_ENCRYPT]: VIRTIO_CRYPTO_SERVICE_AEAD,
  [VIRTIO_CRYPTO_AEAD_DECRYPT]: VIRTIO_CRYPTO_SERVICE_AEAD,
  [VIRTIO_CRYPTO_AKCIPHER_ENCRYPT]: VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  [VIRTIO_CRYPTO_AKCIPHER_DECRYPT]: VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  [VIRTIO_CRYPTO_AKCIPHER_SIGN]: VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  [VIRTIO_CRYPTO_AKCIPHER_VERIFY]: VIRTIO_CRYPTO_SERVICE_AKCIPHER,
};

const status = (s: number): Outcome => ({ status: s });
const ok = (out: Uint8Array): Outcome => ({ status: VIRTIO_CRYPTO_OK, out });
const err = status(VIRTIO_CRYPTO_ERR);

/** One operation's parameters, whichever mode and layout they came in. */
interface Params {
  readonly service: number;
  readonly opcode: number;
  /** Stateless mode: the session's algorithm, key length and direction (op). */
  readonly algo: number;
  readonly keyLen: number;
  readonly op: number;
  readonly ivLen: number;
  readonly srcLen: number;
  /** CIPHER, AEAD: dst_data_len; HASH, MAC: hash_result_len. */
  readonly dstLen: number;
  /** AEAD: aad_len; AKCIPHER VERIFY: the signed data's length (dst_data_len: it follows the signature in src_data). */
  readonly aadLen: number;
  readonly tagLen: number;
  /** AKCIPHER stateless mode: key_type and the algorithm's parameters (virtio_crypto_rsa_session_para). */
  readonly keyType?: number;
  readonly para?: Uint8Array;
}

/**
 * Parses a virtio_crypto_op_data_req; `r` stands at its start, `writable` counts the
 * device-writable bytes before the status byte. @returns the outcome, at once for refused
 * requests (NOTSUPP: opcode, service, op_type, algorithm or mode not offered; INVSESS: no session
 * of that service with that id; ERR: framing beyond the buffers or max_size, lengths unlike the
 * session's, a bad `flag` or `op`) or from the backend (backend failures are ERR)
 */
export function parseDataRequest(r: ChainReader, writable: number, c: DataContext): Outcome | Promise<Outcome> {
  if (r.remaining < VIRTIO_CRYPTO_OP_HEADER_SIZE) return err;
  // virtio_crypto_op_header: opcode, algo, session_id, flag, padding.
  const opcode = r.readU32();
  r.skip(4);
  const sessionId = r.readU64();
  const flag = r.readU32();
  r.skip(4);
  const service = SERVICE_OF[opcode];
  if (service === undefined || !offered(c.services, service)) return status(VIRTIO_CRYPTO_NOTSUPP);
  let stateless = false;
  if (c.revision1) {
    // [crypto.dev.2] [crypto.dev.3] [crypto.dev.4] [crypto.dev.5] the flag decides the mode; a
    // stateless request without that service's stateless mode is not supported.
    if (flag === 0) {
      if (!c.stateless(service)) return status(VIRTIO_CRYPTO_NOTSUPP);
      stateless = true;
    } else if (flag !== VIRTIO_CRYPTO_FLAG_SESSION_MODE) return err;
  }
  const flfLen = stateless ? STATELESS_FLF[service] : c.revision1 ? SESSION_FLF[service] : VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY;
  if (r.remaining < flfLen) return err;
  const flf = new DataView(r.readBytes(flfLen).buffer);
  const u = (i: number) => flf.getUint32(4 * i, true);
  let p: Params;
  if (service === VIRTIO_CRYPTO_SERVICE_CIPHER) {
    // Session: virtio_crypto_cipher_data_flf (iv_len, src_data_len, dst_data_len) with op_type at 40;
    // stateless: sess_para (algo, key_len, op), iv_len, src_data_len, dst_data_len, op_type at 72.
    const opType = flf.getUint32(stateless ? SYM_OP_TYPE_AT_STATELESS : SYM_OP_TYPE_AT, true);
    if (opType !== VIRTIO_CRYPTO_SYM_OP_CIPHER) return status(VIRTIO_CRYPTO_NOTSUPP);
    const o = stateless ? 3 : 0;
    p = { service, opcode, algo: u(0), keyLen: u(1), op: u(2), ivLen: u(o), srcLen: u(o + 1), dstLen: u(o + 2), aadLen: 0, tagLen: 0 };
  } else if (service === VIRTIO_CRYPTO_SERVICE_HASH) {
    // Session: src_data_len, hash_result_len; stateless: algo, src_data_len, hash_result_len.
    const o = stateless ? 1 : 0;
    p = { service, opcode, algo: u(0), keyLen: 0, op: 0, ivLen: 0, srcLen: u(o), dstLen: u(o + 1), aadLen: 0, tagLen: 0 };
  } else if (service === VIRTIO_CRYPTO_SERVICE_MAC) {
    // Session: src_data_len, hash_result_len; stateless: algo, auth_key_len, src_data_len, hash_result_len.
    const o = stateless ? 2 : 0;
    p = { service, opcode, algo: u(0), keyLen: u(1), op: 0, ivLen: 0, srcLen: u(o), dstLen: u(o + 1), aadLen: 0, tagLen: 0 };
  } else if (service === VIRTIO_CRYPTO_SERVICE_AKCIPHER) {
    // Session: src_data_len, dst_data_len; stateless: sess_para (algo, key_type, key_len, 8 bytes
    // of algorithm parameters), src_data_len, dst_data_len. VERIFY: src_data is the signature then
    // the signed data (dst_data_len bytes), and dst_data is empty.
    const o = stateless ? 5 : 0;
    const [srcLen, dstLen] = [u(o), u(o + 1)];
    const verify = opcode === VIRTIO_CRYPTO_AKCIPHER_VERIFY;
    const para = stateless ? new Uint8Array(flf.buffer, 12, 8) : undefined;
    p = { service, opcode, algo: u(0), keyLen: stateless ? u(2) : 0, op: 0, ivLen: 0, srcLen, dstLen: verify ? 0 : dstLen, aadLen: verify ? dstLen : 0, tagLen: 0, keyType: u(1), para };
  } else if (stateless) {
    // virtio_crypto_aead_data_flf_stateless: algo, key_len, op, iv_len, tag_len, aad_len, src_data_len, dst_data_len.
    p = { service, opcode, algo: u(0), keyLen: u(1), op: u(2), ivLen: u(3), tagLen: u(4), aadLen: u(5), srcLen: u(6), dstLen: u(7) };
  } else {
    // virtio_crypto_aead_data_flf: iv_len, aad_len, src_data_len, dst_data_len, tag_len.
    p = { service, opcode, algo: 0, keyLen: 0, op: 0, ivLen: u(0), aadLen: u(1), srcLen: u(2), dstLen: u(3), tagLen: u(4) };
  }
  return stateless ? runStateless(p, r, writable, c) : runSession(p, sessionId, r, writable, c);
}

function offered(s: CryptoServices, service: number): boolean {
  if (service === VIRTIO_CRYPTO_SERVICE_CIPHER) return s.cipher !== undefined;
  if (service === VIRTIO_CRYPTO_SERVICE_HASH) return s.hash !== undefined;
  if (service === VIRTIO_CRYPTO_SERVICE_MAC) return s.mac !== undefined;
  if (service === VIRTIO_CRYPTO_SERVICE_AKCIPHER) return s.akcipher !== undefined;
  return s.aead !== undefined;
}

const isEncrypt = (opcode: number) => opcode === VIRTIO_CRYPTO_CIPHER_ENCRYPT || opcode === VIRTIO_CRYPTO_AEAD_ENCRYPT;

/**
 * Whether the lengths fit the chain, max_size and the operation: CIPHER dst = src; HASH/MAC the
 * result length; AEAD the session's tag, dst at least the output. `keyLen` bytes of key lead the
 * readable variable part in stateless mode.
 */
function fits(p: Params, keyLen: number, resultLen: number, tagLen: number, readable: number, writable: number, maxSize: number): boolean {
  const vlf = keyLen + p.ivLen + p.srcLen + p.aadLen;
  if (vlf > readable || p.dstLen > writable || vlf + p.dstLen > maxSize) return false;
  switch (p.service) {
    case VIRTIO_CRYPTO_SERVICE_CIPHER:
      return p.dstLen === p.srcLen;
    case VIRTIO_CRYPTO_SERVICE_AEAD: {
      const outLen = isEncrypt(p.opcode) ? p.srcLen + tagLen : p.srcLen - tagLen;
      return p.tagLen === tagLen && outLen >= 0 && p.dstLen >= outLen;
    }
    case VIRTIO_CRYPTO_SERVICE_AKCIPHER:
      return true;
    default:
      return p.dstLen === resultLen;
  }
}

function runSession(p: Params, sessionId: bigint, r: ChainReader, writable: number, c: DataContext): Outcome | Promise<Outcome> {
  const s = c.session(sessionId);
  if (s?.service !== p.service) return status(VIRTIO_CRYPTO_INVSESS);
  const resultLen = s.service === VIRTIO_CRYPTO_SERVICE_HASH || s.service === VIRTIO_CRYPTO_SERVICE_MAC ? s.resultLen : 0;
  const tagLen = s.service === VIRTIO_CRYPTO_SERVICE_AEAD ? s.tagLen : 0;
  if (!fits(p, 0, resultLen, tagLen, r.remaining, writable, c.maxSize)) return err;
  if ((s.service === VIRTIO_CRYPTO_SERVICE_CIPHER || s.service === VIRTIO_CRYPTO_SERVICE_AEAD) && s.encrypt !== isEncrypt(p.opcode)) return err;
  return perform(p, s, r, c);
}

/** Stateless mode: the session's parameters come with the request; the session lives for it alone. */
function runStateless(p: Params, r: ChainReader, writable: number, c: DataContext): Outcome | Promise<Outcome> {
  const sv = c.services;
  const encrypt = p.op === VIRTIO_CRYPTO_OP_ENCRYPT;
  const directed = p.service === VIRTIO_CRYPTO_SERVICE_CIPHER || p.service === VIRTIO_CRYPTO_SERVICE_AEAD;
  if (directed && ((p.op !== VIRTIO_CRYPTO_OP_ENCRYPT && p.op !== VIRTIO_CRYPTO_OP_DECRYPT) || encrypt !== isEncrypt(p.opcode))) return err;
  let resultLen = 0;
  let session: Promise<Session | null>;
  const key = () => r.readBytes(p.keyLen);
  switch (p.service) {
    case VIRTIO_CRYPTO_SERVICE_CIPHER: {
      const b = sv.cipher!;
      if (!b.cipherAlgorithms.includes(p.algo)) return status(VIRTIO_CRYPTO_NOTSUPP);
      if (p.keyLen > b.maxCipherKeyLen || !fits(p, p.keyLen, 0, 0, r.remaining, writable, c.maxSize)) return err;
      session = b.createCipherSession(p.algo, key(), encrypt).then((cipher) => cipher && { service: VIRTIO_CRYPTO_SERVICE_CIPHER, encrypt, cipher });
      break;
    }
    case VIRTIO_CRYPTO_SERVICE_HASH: {
      const b = sv.hash!;
      if (!b.hashAlgorithms.includes(p.algo)) return status(VIRTIO_CRYPTO_NOTSUPP);
      resultLen = p.dstLen;
      if (resultLen < 1 || resultLen > b.digestLength(p.algo) || !fits(p, 0, resultLen, 0, r.remaining, writable, c.maxSize)) return err;
      session = Promise.resolve({ service: VIRTIO_CRYPTO_SERVICE_HASH, algo: p.algo, resultLen });
      break;
    }
    case VIRTIO_CRYPTO_SERVICE_MAC: {
      const b = sv.mac!;
      if (!b.macAlgorithms.includes(p.algo)) return status(VIRTIO_CRYPTO_NOTSUPP);
      resultLen = p.dstLen;
      if (resultLen < 1 || resultLen > b.macLength(p.algo) || p.keyLen > b.maxAuthKeyLen || !fits(p, p.keyLen, resultLen, 0, r.remaining, writable, c.maxSize)) return err;
      session = b.createMacSession(p.algo, key()).then((mac) => mac && { service: VIRTIO_CRYPTO_SERVICE_MAC, resultLen, mac });
      break;
    }
    case VIRTIO_CRYPTO_SERVICE_AKCIPHER: {
      const b = sv.akcipher!;
      if (!b.akcipherAlgorithms.includes(p.algo)) return status(VIRTIO_CRYPTO_NOTSUPP);
      if ((p.keyType !== VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC && p.keyType !== VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE) || p.keyLen > MAX_AKCIPHER_KEY) return err;
      if (!fits(p, p.keyLen, 0, 0, r.remaining, writable, c.maxSize)) return err;
      const para = new Uint8Array(44);
      para.set(p.para ?? new Uint8Array(0));
      session = b
        .createAkcipherSession(p.algo, p.keyType === VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC ? 'public' : 'private', key(), para)
        .then((akcipher) => akcipher && { service: VIRTIO_CRYPTO_SERVICE_AKCIPHER, akcipher });
      break;
    }
    default: {
      const b = sv.aead!;
      if (!b.aeadAlgorithms.includes(p.algo)) return status(VIRTIO_CRYPTO_NOTSUPP);
      if (p.keyLen > maxCipherKeyLen(sv) || !fits(p, p.keyLen, 0, p.tagLen, r.remaining, writable, c.maxSize)) return err;
      const tagLen = p.tagLen;
      session = b.createAeadSession(p.algo, key(), tagLen).then((aead) => aead && { service: VIRTIO_CRYPTO_SERVICE_AEAD, encrypt, tagLen, aead });
    }
  }
  // The variable part is read now: the guest may rewrite it once the request is taken.
  const vlf = readVlf(p, r);
  return session.then(
    (s) => (s ? perform(p, s, null, c, vlf) : status(VIRTIO_CRYPTO_NOTSUPP)),
    () => err,
  );
}

interface Vlf {
  readonly iv: Uint8Array;
  readonly src: Uint8Array;
  readonly aad: Uint8Array;
}

/** iv, src_data, then aad (AEAD): the readable variable part after any key. */
function readVlf(p: Params, r: ChainReader): Vlf {
  return { iv: r.readBytes(p.ivLen), src: r.readBytes(p.srcLen), aad: r.readBytes(p.aadLen) };
}

/** Runs a checked operation; backend failures are ERR. */
function perform(p: Params, s: Session, r: ChainReader | null, c: DataContext, v: Vlf = readVlf(p, r as ChainReader)): Promise<Outcome> {
  let work: Promise<Outcome>;
  switch (s.service) {
    case VIRTIO_CRYPTO_SERVICE_CIPHER:
      work = s.cipher.run(v.iv, v.src).then((out) => (out.length === p.dstLen ? ok(out) : err));
      break;
    case VIRTIO_CRYPTO_SERVICE_HASH:
    case VIRTIO_CRYPTO_SERVICE_MAC: {
      const digest = s.service === VIRTIO_CRYPTO_SERVICE_MAC ? s.mac.sign(v.src) : c.services.hash!.digest(s.algo, v.src);
      work = digest.then((d) => (d.length >= s.resultLen ? ok(d.subarray(0, s.resultLen)) : err));
      break;
    }
    case VIRTIO_CRYPTO_SERVICE_AEAD: {
      const outLen = s.encrypt ? p.srcLen + s.tagLen : p.srcLen - s.tagLen;
      // [crypto.dev.5] decryption verifies the tag: BADMSG when it does not match.
      work = s.encrypt
        ? s.aead.encrypt(v.iv, v.aad, v.src).then((out) => (out.length === outLen ? ok(out) : err))
        : s.aead.decrypt(v.iv, v.aad, v.src).then((out) => (out === null ? status(VIRTIO_CRYPTO_BADMSG) : out.length === outLen ? ok(out) : err));
      break;
    }
    case VIRTIO_CRYPTO_SERVICE_AKCIPHER: {
      const a = s.akcipher;
      if (p.opcode === VIRTIO_CRYPTO_AKCIPHER_VERIFY) {
        // [crypto.dev.6] a signature that does not verify is KEY_REJECTED.
        work = a.verify(v.src, v.aad).then((good) => status(good ? VIRTIO_CRYPTO_OK : VIRTIO_CRYPTO_KEY_REJECTED));
      } else {
        const run = p.opcode === VIRTIO_CRYPTO_AKCIPHER_ENCRYPT ? a.encrypt(v.src) : p.opcode === VIRTIO_CRYPTO_AKCIPHER_DECRYPT ? a.decrypt(v.src) : a.sign(v.src);
        // The result may be shorter than dst_data; the used length tells the driver.
        work = run.then((out) => (out.length <= p.dstLen ? ok(out) : err));
      }
    }
  }
  return work.catch(() => err);
}
