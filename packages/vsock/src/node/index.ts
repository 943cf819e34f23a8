// Public exports of @virtio/vsock/node (Node-only backends).
export { HybridVsockBackend, type HybridVsockOptions } from './hybrid.js';
