// Test helpers of @virtio/core, exported as @virtio/core/testing.
export { EchoDevice, ECHO_DEVICE_ID, type EchoDeviceOptions } from './echo-device.js';
export { LoopbackTransport } from './loopback.js';
