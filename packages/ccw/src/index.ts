// Public exports of @virtio/ccw.
export * from './protocol/constants.js';
export * from './protocol/structures.js';
export { CCW_SIZE, CCW_ADDRESS_LIMIT, readCcw, writeCcw, type Ccw } from './channel/ccw.js';
export type { ChannelProgramResult, CommandStatus } from './channel/result.js';
export { MAX_CHANNEL_PROGRAM_LENGTH } from './channel/program.js';
export { ClassicIndicators, AdapterIndicators } from './device/indicators.js';
export { CcwTransport, type CcwTransportOptions } from './device/transport.js';
export type { CcwInterruptHandlers } from './device/notifier.js';
export { ChannelSubsystem, type ChannelSubsystemAccess } from './device/channel-subsystem.js';
export { CcwDriverTransport, type CcwDriverOptions } from './driver/transport.js';
export { CcwDriverError, type CcwDriverErrorCode } from './driver/errors.js';
export { DRIVER_INDICATOR_QUEUES } from './driver/indicators.js';
export { legacyRingAllocator } from './driver/legacy-allocator.js';
