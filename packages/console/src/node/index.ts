// Node-only backends of @virtio/console, imported as @virtio/console/node.
export { connectStreams, followTerminalSize, type StreamConnection, type ConnectStreamsOptions } from './streams.js';
