// Public exports of @virtio/pci.
export {};
