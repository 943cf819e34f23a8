// Public exports of @virtio/vsock.
export * from './protocol.js';
export { negotiatedTypes, type VsockTypes } from './features.js';
export { VsockRequestError, type VsockRequestErrorCode } from './errors.js';
export { systemTimers, type Timers } from './socket/clock.js';
export { VsockConnection, type VsockConnectionState, type VsockCloseReason, type VsockDataInfo } from './socket/connection.js';
export { VsockEndpoint, EPHEMERAL_PORT_BASE, type VsockEndpointOptions, type VsockListener } from './socket/endpoint.js';
export { VsockDevice, VSOCK_DEFAULT_FEATURES, VSOCK_DEFAULT_RING_FEATURES, type VsockDeviceOptions, type VsockStats } from './device.js';
export { VsockDriver, VSOCK_EVENT_BUFFERS, type VsockDriverOptions } from './driver.js';
