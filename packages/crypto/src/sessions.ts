/**
 * Create-session requests of the controlq (spec 5.9.7.2.1) for the CIPHER, HASH, MAC and AEAD
 * services, in the layout without VIRTIO_CRYPTO_F_REVISION_1 (op_flf padded to 56 bytes) or with
 * it (op_flf as long as its structure), and the sessions they make.
 */
import type { ChainReader } from '@virtio/ring';
import { CREATE_FLF } from './layout.js';
import type { AeadBackend, AeadSession, AkcipherBackend, AkcipherSession, CipherBackend, CipherSession, HashBackend, MacBackend, MacSession } from './backend.js';
import {
  VIRTIO_CRYPTO_AEAD_CREATE_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE,
  VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC,
  VIRTIO_CRYPTO_CIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_HASH_CREATE_SESSION,
  VIRTIO_CRYPTO_MAC_CREATE_SESSION,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OP_DECRYPT,
  VIRTIO_CRYPTO_OP_ENCRYPT,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
  VIRTIO_CRYPTO_SYM_OP_CIPHER,
  VIRTIO_CRYPTO_SYM_SESS_OP_SPEC_HDR_SIZE,
} from './protocol.js';

/** The engines of the services a device offers (a service without one is not offered). */
export interface CryptoServices {
  readonly cipher?: CipherBackend;
  readonly hash?: HashBackend;
  readonly mac?: MacBackend;
  readonly aead?: AeadBackend;
  readonly akcipher?: AkcipherBackend;
}

/** Largest AKCIPHER key this device takes, in bytes (a DER RSAPrivateKey of 4096 bits fits). */
export const MAX_AKCIPHER_KEY = 4096;

/** An open session, by service. */
export type Session =
  | { readonly service: typeof VIRTIO_CRYPTO_SERVICE_CIPHER; readonly encrypt: boolean; readonly cipher: CipherSession }
  | { readonly service: typeof VIRTIO_CRYPTO_SERVICE_HASH; readonly algo: number; readonly resultLen: number }
  | { readonly service: typeof VIRTIO_CRYPTO_SERVICE_MAC; readonly resultLen: number; readonly mac: MacSession }
  | { readonly service: typeof VIRTIO_CRYPTO_SERVICE_AEAD; readonly encrypt: boolean; readonly tagLen: number; readonly aead: AeadSession }
  | { readonly service: typeof VIRTIO_CRYPTO_SERVICE_AKCIPHER; readonly akcipher: AkcipherSession };

/** max_cipher_key_len: CIPHER and AEAD keys share it. */
export function maxCipherKeyLen(s: CryptoServices): number {
  return Math.max(s.cipher?.cipherAlgorithms.length ? s.cipher.maxCipherKeyLen : 0, s.aead?.aeadAlgorithms.length ? s.aead.maxKeyLen : 0);
}

/**
 * Parses op_flf and op_vlf of a create-session request; `r` stands after the 16-byte
 * virtio_crypto_ctrl_header. @returns a status for a request refused at once (NOTSUPP: service,
 * algorithm or op_type not offered; ERR: a short request, malformed parameters), else the
 * backend's work: the session, null for NOTSUPP, a rejection for ERR
 */
export function parseCreateSession(opcode: number, r: ChainReader, services: CryptoServices, revision1: boolean): number | Promise<Session | null> {
  const keyMax = maxCipherKeyLen(services);
  const flfLen = revision1 ? (CREATE_FLF[opcode] ?? 0) : VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY;
  if (CREATE_FLF[opcode] !== undefined && r.remaining < flfLen) return VIRTIO_CRYPTO_ERR;
  const flfEnd = r.consumed + flfLen;
  const vlf = (len: number): Uint8Array => (r.skip(flfEnd - r.consumed), r.readBytes(len));
  const isOp = (op: number) => op === VIRTIO_CRYPTO_OP_ENCRYPT || op === VIRTIO_CRYPTO_OP_DECRYPT;
  switch (opcode) {
    case VIRTIO_CRYPTO_CIPHER_CREATE_SESSION: {
      const b = services.cipher;
      if (!b) return VIRTIO_CRYPTO_NOTSUPP;
      // virtio_crypto_sym_create_session_flf: op_flf[48] (cipher_session_flf), op_type.
      const algo = r.readU32();
      const keyLen = r.readU32();
      const op = r.readU32();
      r.skip(VIRTIO_CRYPTO_SYM_SESS_OP_SPEC_HDR_SIZE - 12);
      if (r.readU32() !== VIRTIO_CRYPTO_SYM_OP_CIPHER) return VIRTIO_CRYPTO_NOTSUPP;
      if (!isOp(op) || keyLen > b.maxCipherKeyLen || keyLen > r.remaining - (flfEnd - r.consumed)) return VIRTIO_CRYPTO_ERR;
      if (!b.cipherAlgorithms.includes(algo)) return VIRTIO_CRYPTO_NOTSUPP;
      const encrypt = op === VIRTIO_CRYPTO_OP_ENCRYPT;
      return b.createCipherSession(algo, vlf(keyLen), encrypt).then((cipher) => cipher && { service: VIRTIO_CRYPTO_SERVICE_CIPHER, encrypt, cipher });
    }
    case VIRTIO_CRYPTO_HASH_CREATE_SESSION: {
      const b = services.hash;
      // virtio_crypto_hash_create_session_flf: algo, hash_result_len.
      const algo = r.readU32();
      const resultLen = r.readU32();
      if (!b || !b.hashAlgorithms.includes(algo)) return VIRTIO_CRYPTO_NOTSUPP;
      if (resultLen < 1 || resultLen > b.digestLength(algo)) return VIRTIO_CRYPTO_ERR;
      return Promise.resolve({ service: VIRTIO_CRYPTO_SERVICE_HASH, algo, resultLen });
    }
    case VIRTIO_CRYPTO_MAC_CREATE_SESSION: {
      const b = services.mac;
      // virtio_crypto_mac_create_session_flf: algo, hash_result_len, auth_key_len, padding.
      const algo = r.readU32();
      const resultLen = r.readU32();
      const keyLen = r.readU32();
      if (!b || !b.macAlgorithms.includes(algo)) return VIRTIO_CRYPTO_NOTSUPP;
      if (resultLen < 1 || resultLen > b.macLength(algo) || keyLen > b.maxAuthKeyLen || keyLen > r.remaining - (flfEnd - r.consumed)) return VIRTIO_CRYPTO_ERR;
      return b.createMacSession(algo, vlf(keyLen)).then((mac) => mac && { service: VIRTIO_CRYPTO_SERVICE_MAC, resultLen, mac });
    }
    case VIRTIO_CRYPTO_AEAD_CREATE_SESSION: {
      const b = services.aead;
      // virtio_crypto_aead_create_session_flf: algo, key_len, tag_len, aad_len, op, padding.
      const algo = r.readU32();
      const keyLen = r.readU32();
      const tagLen = r.readU32();
      r.skip(4); // aad_len: each data request gives its own
      const op = r.readU32();
      if (!b || !b.aeadAlgorithms.includes(algo)) return VIRTIO_CRYPTO_NOTSUPP;
      if (!isOp(op) || keyLen > keyMax || keyLen > r.remaining - (flfEnd - r.consumed)) return VIRTIO_CRYPTO_ERR;
      const encrypt = op === VIRTIO_CRYPTO_OP_ENCRYPT;
      return b.createAeadSession(algo, vlf(keyLen), tagLen).then((aead) => aead && { service: VIRTIO_CRYPTO_SERVICE_AEAD, encrypt, tagLen, aead });
    }
    case VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION: {
      const b = services.akcipher;
      // virtio_crypto_akcipher_create_session_flf: algo, key_type, key_len, algo_flf[44].
      const algo = r.readU32();
      const keyType = r.readU32();
      const keyLen = r.readU32();
      const para = r.readBytes(44);
      if (!b || !b.akcipherAlgorithms.includes(algo)) return VIRTIO_CRYPTO_NOTSUPP;
      if ((keyType !== VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC && keyType !== VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE) || keyLen > MAX_AKCIPHER_KEY || keyLen > r.remaining - (flfEnd - r.consumed)) {
        return VIRTIO_CRYPTO_ERR;
      }
      const type = keyType === VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC ? 'public' : 'private';
      return b.createAkcipherSession(algo, type, vlf(keyLen), para).then((akcipher) => akcipher && { service: VIRTIO_CRYPTO_SERVICE_AKCIPHER, akcipher });
    }
    default:
      return VIRTIO_CRYPTO_NOTSUPP;
  }
}
