// Node-only exports of @virtio/net (@virtio/net/node).
export { TapBackend, TAP_VNET_HDR_SIZE, type TapBackendOptions } from './tap.js';
export { TapError } from './errors.js';
