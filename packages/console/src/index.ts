// Public exports of @virtio/console.
export * from './protocol.js';
export {
  ConsoleConfigSpace,
  CONSOLE_CONFIG_COLS,
  CONSOLE_CONFIG_ROWS,
  CONSOLE_CONFIG_MAX_NR_PORTS,
  CONSOLE_CONFIG_EMERG_WR,
  CONSOLE_CONFIG_SIZE,
} from './config.js';
export {
  ConsoleDevice,
  CONSOLE_DEFAULT_RING_FEATURES,
  type ConsoleDeviceOptions,
  type ConsoleDeviceStats,
  type ConsoleSize,
} from './device.js';
export { ConsolePort, type ConsolePortOptions } from './port.js';
export { CONTROL_BACKLOG_LIMIT } from './control-out.js';
export { ConsoleRequestError, type ConsoleRequestErrorCode } from './errors.js';
export type { PortBackend } from './backends/backend.js';
export { MemoryPortBackend } from './backends/memory.js';
export { CallbackPortBackend } from './backends/callback.js';
export {
  ConsoleDriver,
  ConsoleDriverError,
  DEFAULT_CONSOLE_FEATURES,
  type ConsoleDriverEvents,
  type ConsoleDriverOptions,
  type DriverPort,
} from './driver.js';
