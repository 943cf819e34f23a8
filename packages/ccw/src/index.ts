// Public exports of @virtio/ccw.
export {};
