/** The crypto device's structures and constants under the spec's names (spec 5.9). */

/** Feature bits (spec 5.9.3). This package offers none of them (see the README). */
export const VIRTIO_CRYPTO_F_REVISION_1 = 0;
export const VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE = 1;
export const VIRTIO_CRYPTO_F_HASH_STATELESS_MODE = 2;
export const VIRTIO_CRYPTO_F_MAC_STATELESS_MODE = 3;
export const VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE = 4;
export const VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE = 5;

/** Services (bit numbers of crypto_services). */
export const VIRTIO_CRYPTO_SERVICE_CIPHER = 0;
export const VIRTIO_CRYPTO_SERVICE_HASH = 1;
export const VIRTIO_CRYPTO_SERVICE_MAC = 2;
export const VIRTIO_CRYPTO_SERVICE_AEAD = 3;
export const VIRTIO_CRYPTO_SERVICE_AKCIPHER = 4;

/** CIPHER algorithms (values and bit numbers of cipher_algo_l/h). */
export const VIRTIO_CRYPTO_NO_CIPHER = 0;
export const VIRTIO_CRYPTO_CIPHER_ARC4 = 1;
export const VIRTIO_CRYPTO_CIPHER_AES_ECB = 2;
export const VIRTIO_CRYPTO_CIPHER_AES_CBC = 3;
export const VIRTIO_CRYPTO_CIPHER_AES_CTR = 4;

/** HASH algorithms (values and bit numbers of hash_algo). */
export const VIRTIO_CRYPTO_NO_HASH = 0;
export const VIRTIO_CRYPTO_HASH_MD5 = 1;
export const VIRTIO_CRYPTO_HASH_SHA1 = 2;
export const VIRTIO_CRYPTO_HASH_SHA_224 = 3;
export const VIRTIO_CRYPTO_HASH_SHA_256 = 4;
export const VIRTIO_CRYPTO_HASH_SHA_384 = 5;
export const VIRTIO_CRYPTO_HASH_SHA_512 = 6;

/** MAC algorithms (values and bit numbers of mac_algo_l/h). */
export const VIRTIO_CRYPTO_NO_MAC = 0;
export const VIRTIO_CRYPTO_MAC_HMAC_MD5 = 1;
export const VIRTIO_CRYPTO_MAC_HMAC_SHA1 = 2;
export const VIRTIO_CRYPTO_MAC_HMAC_SHA_224 = 3;
export const VIRTIO_CRYPTO_MAC_HMAC_SHA_256 = 4;
export const VIRTIO_CRYPTO_MAC_HMAC_SHA_384 = 5;
export const VIRTIO_CRYPTO_MAC_HMAC_SHA_512 = 6;
export const VIRTIO_CRYPTO_MAC_CMAC_AES = 26;

/** AEAD algorithms (values and bit numbers of aead_algo). */
export const VIRTIO_CRYPTO_NO_AEAD = 0;
export const VIRTIO_CRYPTO_AEAD_GCM = 1;
export const VIRTIO_CRYPTO_AEAD_CCM = 2;
export const VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305 = 3;

/** AKCIPHER algorithms (values and bit numbers of akcipher_algo). */
export const VIRTIO_CRYPTO_NO_AKCIPHER = 0;
export const VIRTIO_CRYPTO_AKCIPHER_RSA = 1;
export const VIRTIO_CRYPTO_AKCIPHER_ECDSA = 2;
/** key_type of an AKCIPHER session. */
export const VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PUBLIC = 1;
export const VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_PRIVATE = 2;
/** virtio_crypto_rsa_session_para.padding_algo. */
export const VIRTIO_CRYPTO_RSA_RAW_PADDING = 0;
export const VIRTIO_CRYPTO_RSA_PKCS1_PADDING = 1;
/** virtio_crypto_rsa_session_para.hash_algo. */
export const VIRTIO_CRYPTO_RSA_NO_HASH = 0;
export const VIRTIO_CRYPTO_RSA_MD2 = 1;
export const VIRTIO_CRYPTO_RSA_MD3 = 2;
export const VIRTIO_CRYPTO_RSA_MD4 = 3;
export const VIRTIO_CRYPTO_RSA_MD5 = 4;
export const VIRTIO_CRYPTO_RSA_SHA1 = 5;
export const VIRTIO_CRYPTO_RSA_SHA256 = 6;
export const VIRTIO_CRYPTO_RSA_SHA384 = 7;
export const VIRTIO_CRYPTO_RSA_SHA512 = 8;
export const VIRTIO_CRYPTO_RSA_SHA224 = 9;

/** Status of config `status`. */
export const VIRTIO_CRYPTO_S_HW_READY = 1 << 0;

/** enum VIRTIO_CRYPTO_STATUS. */
export const VIRTIO_CRYPTO_OK = 0;
export const VIRTIO_CRYPTO_ERR = 1;
export const VIRTIO_CRYPTO_BADMSG = 2;
export const VIRTIO_CRYPTO_NOTSUPP = 3;
export const VIRTIO_CRYPTO_INVSESS = 4;
export const VIRTIO_CRYPTO_NOSPC = 5;
export const VIRTIO_CRYPTO_KEY_REJECTED = 6;

export const VIRTIO_CRYPTO_OPCODE = (service: number, op: number): number => (service << 8) | op;
/** controlq opcodes. */
export const VIRTIO_CRYPTO_CIPHER_CREATE_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x02);
export const VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x03);
export const VIRTIO_CRYPTO_HASH_CREATE_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_HASH, 0x02);
export const VIRTIO_CRYPTO_HASH_DESTROY_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_HASH, 0x03);
export const VIRTIO_CRYPTO_MAC_CREATE_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_MAC, 0x02);
export const VIRTIO_CRYPTO_MAC_DESTROY_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_MAC, 0x03);
export const VIRTIO_CRYPTO_AEAD_CREATE_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x02);
export const VIRTIO_CRYPTO_AEAD_DESTROY_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x03);
export const VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x04);
export const VIRTIO_CRYPTO_AKCIPHER_DESTROY_SESSION = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x05);
/** dataq opcodes. */
export const VIRTIO_CRYPTO_CIPHER_ENCRYPT = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x00);
export const VIRTIO_CRYPTO_CIPHER_DECRYPT = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x01);

/** Cipher direction of a session (virtio_crypto_cipher_session_flf.op). */
export const VIRTIO_CRYPTO_OP_ENCRYPT = 1;
export const VIRTIO_CRYPTO_OP_DECRYPT = 2;
/** virtio_crypto_sym_create_session_flf.op_type / virtio_crypto_sym_data_flf.op_type. */
export const VIRTIO_CRYPTO_SYM_OP_NONE = 0;
export const VIRTIO_CRYPTO_SYM_OP_CIPHER = 1;
export const VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING = 2;
export const VIRTIO_CRYPTO_FLAG_SESSION_MODE = 1;

/** Sizes without VIRTIO_CRYPTO_F_REVISION_1, in bytes. */
export const VIRTIO_CRYPTO_CTRL_HEADER_SIZE = 16;
export const VIRTIO_CRYPTO_CTRLQ_OP_SPEC_HDR_LEGACY = 56;
export const VIRTIO_CRYPTO_OP_HEADER_SIZE = 24;
export const VIRTIO_CRYPTO_DATAQ_OP_SPEC_HDR_LEGACY = 48;
/** struct virtio_crypto_create_session_input. */
export const VIRTIO_CRYPTO_CREATE_SESSION_INPUT_SIZE = 16;
/** Offset of op_type in virtio_crypto_sym_create_session_flf and virtio_crypto_sym_data_flf. */
export const VIRTIO_CRYPTO_SYM_SESS_OP_SPEC_HDR_SIZE = 48;
export const VIRTIO_CRYPTO_SYM_DATA_REQ_HDR_SIZE = 40;
export const VIRTIO_CRYPTO_HASH = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_HASH, 0x00);
export const VIRTIO_CRYPTO_MAC = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_MAC, 0x00);
export const VIRTIO_CRYPTO_AEAD_ENCRYPT = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x00);
export const VIRTIO_CRYPTO_AEAD_DECRYPT = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x01);
export const VIRTIO_CRYPTO_AKCIPHER_ENCRYPT = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x00);
export const VIRTIO_CRYPTO_AKCIPHER_DECRYPT = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x01);
export const VIRTIO_CRYPTO_AKCIPHER_SIGN = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x02);
export const VIRTIO_CRYPTO_AKCIPHER_VERIFY = VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x03);
