export type { DriverTransport, InterruptCauses } from './transport.js';
export { initializeDevice, type InitializeOptions } from './initialize.js';
export { resetDevice, resetDeviceAsync, setUpQueue, RESET_POLL_LIMIT, type QueueRequest, type ResetWaitOptions } from './steps.js';
export { DriverDevice, type DeviceEvents } from './driver-device.js';
export { readConfigConsistent, configReader, CONFIG_READ_ATTEMPTS, type ConfigReader } from './config-reader.js';
export { selectFeatures, type FeatureDependency } from './select-features.js';
export { DeviceInitError, type DeviceInitErrorCode } from './errors.js';
