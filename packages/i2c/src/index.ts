// Public exports of @virtio/i2c.
export * from './protocol.js';
export { encodeI2cAddress, decodeI2cAddress, type I2cAddress } from './address.js';
export { I2cDevice, I2C_DEFAULT_RING_FEATURES, type I2cDeviceOptions, type I2cStats } from './device.js';
export { I2cRequestError } from './errors.js';
export type { I2cBackend, I2cMessage } from './backends/backend.js';
export { SimulatedI2cBus, type I2cTarget } from './backends/bus.js';
export { I2cEeprom, type I2cEepromOptions } from './backends/eeprom.js';
export { I2cDriver, I2cDriverError, type I2cDriverOptions, type I2cSegment, type I2cTransferResult } from './driver.js';
