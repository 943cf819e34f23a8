// Public exports of @virtio/test-guest.
export {};
