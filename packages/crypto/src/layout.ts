/**
 * Sizes of the opcode-specific fixed-length parts (op_flf) of controlq and data queue requests
 * (spec 5.9.7.2, 5.9.7.3): padded to 56 / 48 bytes without VIRTIO_CRYPTO_F_REVISION_1, as long
 * as their structure with it, and the stateless-mode structures.
 */
import {
  VIRTIO_CRYPTO_AEAD_CREATE_SESSION,
  VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_CIPHER_CREATE_SESSION,
  VIRTIO_CRYPTO_HASH_CREATE_SESSION,
  VIRTIO_CRYPTO_MAC_CREATE_SESSION,
  VIRTIO_CRYPTO_SERVICE_AEAD,
  VIRTIO_CRYPTO_SERVICE_AKCIPHER,
  VIRTIO_CRYPTO_SERVICE_CIPHER,
  VIRTIO_CRYPTO_SERVICE_HASH,
  VIRTIO_CRYPTO_SERVICE_MAC,
} from './protocol.js';

/** op_flf of each create-session opcode with VIRTIO_CRYPTO_F_REVISION_1 (the *_create_session_flf structures). */
export const CREATE_FLF: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_CIPHER_CREATE_SESSION]: 56,
  [VIRTIO_CRYPTO_HASH_CREATE_SESSION]: 8,
  [VIRTIO_CRYPTO_MAC_CREATE_SESSION]: 16,
  [VIRTIO_CRYPTO_AEAD_CREATE_SESSION]: 24,
  [VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION]: 56,
};

/** op_flf of virtio_crypto_destroy_session_flf with VIRTIO_CRYPTO_F_REVISION_1. */
export const DESTROY_FLF = 8;

/** op_flf of session-mode data requests, by service, with VIRTIO_CRYPTO_F_REVISION_1 (sym/hash/mac/aead_data_flf). */
export const SESSION_FLF: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_SERVICE_CIPHER]: 48,
  [VIRTIO_CRYPTO_SERVICE_HASH]: 8,
  [VIRTIO_CRYPTO_SERVICE_MAC]: 8,
  [VIRTIO_CRYPTO_SERVICE_AEAD]: 24,
  [VIRTIO_CRYPTO_SERVICE_AKCIPHER]: 8,
};

/** op_flf of stateless data requests, by service (the *_data_flf_stateless structures; CIPHER: sym_data_flf_stateless). */
export const STATELESS_FLF: Readonly<Record<number, number>> = {
  [VIRTIO_CRYPTO_SERVICE_CIPHER]: 76,
  [VIRTIO_CRYPTO_SERVICE_HASH]: 16,
  [VIRTIO_CRYPTO_SERVICE_MAC]: 16,
  [VIRTIO_CRYPTO_SERVICE_AEAD]: 32,
  [VIRTIO_CRYPTO_SERVICE_AKCIPHER]: 28,
};

/** Offset of op_type in sym_data_flf (session mode) and sym_data_flf_stateless. */
export const SYM_OP_TYPE_AT = 40;
export const SYM_OP_TYPE_AT_STATELESS = 72;
