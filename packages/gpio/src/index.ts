// Public exports of @virtio/gpio.
export * from './protocol.js';
export { GpioConfigSpace, encodeLineNames, decodeLineNames } from './config.js';
export { GpioDevice, GPIO_DEFAULT_RING_FEATURES, type GpioDeviceOptions } from './device.js';
export { GpioRequestError, type GpioRequestErrorCode } from './errors.js';
export type { GpioBackend, GpioLevelListener } from './backends/backend.js';
export { SimulatedGpioLines, type SimulatedGpioOptions } from './backends/simulated.js';
export { GpioDriver, GpioDriverError, GpioStatusError, type GpioDriverOptions, type GpioInterruptHandler } from './driver.js';
