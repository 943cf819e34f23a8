// Public exports of @virtio/core.
export type {
  VirtioDevice,
  ActivateContext,
  InterruptSink,
  DeviceHost,
  SharedMemoryRegion,
} from './device.js';
export * from './constants.js';
export { FEATURE_WORDS, featureMask, hasFeature, featureWord, withFeatureWord, ringFeatures, isPacked } from './features.js';
export * from './transport/index.js';
export * from './driver/index.js';
export { CompletionBatch, type Completion, type LiveQueues } from './completion-batch.js';
