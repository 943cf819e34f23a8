// Public exports of @virtio/kvm.
export {};
