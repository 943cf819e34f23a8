// Public exports of @virtio/crypto.
export * from './protocol.js';
export { CryptoConfigOffset, CryptoConfigSpace, VIRTIO_CRYPTO_CONFIG_SIZE, type CryptoConfigFields } from './config.js';
export type { AeadBackend, AeadSession, AkcipherBackend, AkcipherSession, CipherBackend, CipherSession, HashBackend, MacBackend, MacSession } from './backend.js';
export { WebCryptoCipherBackend, type SubtleCipher } from './backends/webcrypto.js';
export { WebCryptoHashBackend, WebCryptoMacBackend, type SubtleDigest } from './backends/webcrypto-hash.js';
export { WebCryptoAeadBackend, type SubtleAead } from './backends/webcrypto-aead.js';
export { RsaAkcipherBackend } from './backends/rsa.js';
export { CryptoDevice, CRYPTO_DEFAULT_RING_FEATURES, type CryptoDeviceOptions } from './device.js';
export {
  CryptoDriver,
  CryptoDriverError,
  CRYPTO_DRIVER_FEATURES,
  type AkcipherOp,
  type AkcipherResult,
  type CryptoDriverOptions,
  type CryptoDriverConfig,
  type RsaKeySpec,
} from './driver.js';
