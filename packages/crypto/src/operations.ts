/**
 * Data-queue requests (spec 5.9.7.3-5.9.7.6) of the CIPHER, HASH, MAC and AEAD services in
 * session mode, in the layout without VIRTIO_CRYPTO_F_REVISION_1 (op_flf padded to 48 bytes).
 */
import type { ChainReader } from '@virtio/ring';
import type { Session } from './sessions.js';
import {
  VIRTIO_CRYPTO_AEAD_DECRYPT,
  VIRTIO_CRYPTO_AEAD_ENCRYPT,
  VIRTIO_CRYPTO_BADMSG,
  VIRTIO_CRYPTO_CIPHER_DECRYPT,
  VIRTIO_CRYPTO_CIPHER_ENCRYPT,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_HASH,
  VIRTIO_CRYPTO_INVSESS,
  VIRTIO_CRYPTO_MAC,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
  VIRTIO_CRYPTO_SYM_DATA_REQ_HDR_SIZE,
  VIRTIO_CRYPTO_SYM_OP_CIPHER,
} from './protocol.js';
import type { HashBackend } from './backend.js';

/** What a request yields: its status and the bytes for the start of the device-writable part. */
export interface Outcome {
  readonly status: number;
  readonly out?: Uint8Array;
}

/** What a data request needs besides its bytes. */
export interface DataContext {
  readonly session: (id: bigint) => Session | undefined;
  readonly hash: HashBackend | undefined;
  /** max_size in bytes. */
  readonly maxSize: number;
}

const SERVICE_OF: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_CIPHER_ENCRYPT]: VIRTIO_CRYPTO_SERVICE_CIPHER,
  [VIRTIO_CRYPTO_CIPHER_DECRYPT]: VIRTIO_CRYPTO_SERVICE_CIPHER,
  [VIRTIO_CRYPTO_HASH]: VIRTIO_CRYPTO_SERVICE_HASH,
  [VIRTIO_CRYPTO_MAC]: VIRTIO_CRYPTO_SERVICE_MAC,
  [VIRTIO_CRYPTO_AEAD_ENCRYPT]: VIRTIO_CRYPTO_SERVICE_AEAD,
  [VIRTIO_CRYPTO_AEAD_DECRYPT]: VIRTIO_CRYPTO_SERVICE_AEAD,
};

const status = (s: number): Outcome => ({ status: s });
const ok = (out: Uint8Array): Outcome => ({ status: VIRTIO_CRYPTO_OK, out });
/** Backend failures are VIRTIO_CRYPTO_ERR. */
const run = (p: Promise<Outcome>): Promise<Outcome> => p.catch(() => status(VIRTIO_CRYPTO_ERR));

/**
 * Parses a virtio_crypto_op_data_req; `r` stands at its start with at least 72 readable bytes,
 * `writable` counts the device-writable bytes before the status byte. `offered` tells whether a
 * service is offered. @returns the outcome, at once for refused requests (NOTSUPP: opcode,
 * service or op_type not offered; INVSESS: no session of that service with that id; ERR:
 * lengths beyond the buffers or max_size, or not matching the session) or from the backend
 */
export function parseDataRequest(r: ChainReader, writable: number, offered: (service: number) => boolean, c: DataContext): Outcome | Promise<Outcome> {
  // virtio_crypto_op_header: opcode, algo, session_id, flag (ignored without REVISION_1), padding.
  const opcode = r.readU32();
  r.skip(4);
  const sessionId = r.readU64();
  r.skip(8);
  const service = SERVICE_OF[opcode];
  if (service === undefined || !offered(service)) return status(VIRTIO_CRYPTO_NOTSUPP);
  const flf = [r.readU32(), r.readU32(), r.readU32(), r.readU32(), r.readU32(), r.readU32()];
  r.skip(VIRTIO_CRYPTO_SYM_DATA_REQ_HDR_SIZE - 24);
  const opType = r.readU32();
  r.skip(4);
  if (service === VIRTIO_CRYPTO_SERVICE_CIPHER && opType !== VIRTIO_CRYPTO_SYM_OP_CIPHER) return status(VIRTIO_CRYPTO_NOTSUPP);
  const s = c.session(sessionId);
  if (s?.service !== service) return status(VIRTIO_CRYPTO_INVSESS);
  const readable = r.remaining;
  switch (s.service) {
    case VIRTIO_CRYPTO_SERVICE_CIPHER: {
      // virtio_crypto_cipher_data_flf: iv_len, src_data_len, dst_data_len.
      const [ivLen, srcLen, dstLen] = flf;
      const fits = ivLen + srcLen <= readable && dstLen <= writable && ivLen + srcLen + dstLen <= c.maxSize;
      if (!fits || dstLen !== srcLen || s.encrypt !== (opcode === VIRTIO_CRYPTO_CIPHER_ENCRYPT)) return status(VIRTIO_CRYPTO_ERR);
      const iv = r.readBytes(ivLen);
      const src = r.readBytes(srcLen);
      return run(s.cipher.run(iv, src).then((out) => (out.length === dstLen ? ok(out) : status(VIRTIO_CRYPTO_ERR))));
    }
    case VIRTIO_CRYPTO_SERVICE_HASH:
    case VIRTIO_CRYPTO_SERVICE_MAC: {
      // virtio_crypto_hash_data_flf (mac_data_flf.hdr): src_data_len, hash_result_len.
      const [srcLen, resultLen] = flf;
      if (srcLen > readable || resultLen !== s.resultLen || resultLen > writable || srcLen + resultLen > c.maxSize) return status(VIRTIO_CRYPTO_ERR);
      const src = r.readBytes(srcLen);
      const digest = s.service === VIRTIO_CRYPTO_SERVICE_MAC ? s.mac.sign(src) : c.hash ? c.hash.digest(s.algo, src) : Promise.reject(new Error('no hash backend'));
      return run(digest.then((d) => (d.length >= resultLen ? ok(d.subarray(0, resultLen)) : status(VIRTIO_CRYPTO_ERR))));
    }
    case VIRTIO_CRYPTO_SERVICE_AEAD: {
      // virtio_crypto_aead_data_flf: iv_len, aad_len, src_data_len, dst_data_len, tag_len.
      const [ivLen, aadLen, srcLen, dstLen, tagLen] = flf;
      const encrypt = opcode === VIRTIO_CRYPTO_AEAD_ENCRYPT;
      const outLen = encrypt ? srcLen + s.tagLen : srcLen - s.tagLen;
      const fits = ivLen + srcLen + aadLen <= readable && dstLen <= writable && ivLen + srcLen + aadLen + dstLen <= c.maxSize;
      if (!fits || tagLen !== s.tagLen || outLen < 0 || dstLen < outLen || s.encrypt !== encrypt) return status(VIRTIO_CRYPTO_ERR);
      const iv = r.readBytes(ivLen);
      const src = r.readBytes(srcLen);
      const aad = r.readBytes(aadLen);
      if (encrypt) return run(s.aead.encrypt(iv, aad, src).then((out) => (out.length === outLen ? ok(out) : status(VIRTIO_CRYPTO_ERR))));
      // [crypto.dev.5] decryption verifies the tag: BADMSG when it does not match.
      return run(s.aead.decrypt(iv, aad, src).then((out) => (out === null ? status(VIRTIO_CRYPTO_BADMSG) : out.length === outLen ? ok(out) : status(VIRTIO_CRYPTO_ERR))));
    }
  }
}
