// Public exports of @virtio/blk/node: Node-only backends.
export { FileBackend, type FileBackendOptions } from './file.js';
