// Public exports of @virtio/core.
export {};
