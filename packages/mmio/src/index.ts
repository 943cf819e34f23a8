// Public exports of @virtio/mmio.
export {};
