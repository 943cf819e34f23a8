// Public exports of @virtio/entropy.
export { VIRTIO_ENTROPY_DEVICE_ID, VIRTIO_ENTROPY_REQUESTQ, GET_RANDOM_VALUES_MAX } from './protocol.js';
export { EntropyDevice, ENTROPY_DEFAULT_RING_FEATURES, type EntropyDeviceOptions, type EntropyStats } from './device.js';
export { EntropyRequestError, type EntropyRequestErrorCode } from './errors.js';
export { TokenBucket, systemClock, type Clock, type RateLimit } from './rate-limit.js';
export type { EntropySource } from './backends/source.js';
export { CryptoEntropySource } from './backends/crypto.js';
export { CallbackEntropySource, PatternEntropySource } from './backends/callback.js';
export { EntropyDriver, EntropyDriverError, EMPTY_COMPLETION_LIMIT, type EntropyDriverOptions } from './driver.js';
