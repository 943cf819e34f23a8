// Public exports of @virtio/pmem/node: Node-only backends.
export { FilePmemBackend, type FilePmemBackendOptions } from './file.js';
