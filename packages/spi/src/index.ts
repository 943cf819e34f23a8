// Public exports of @virtio/spi.
export * from './protocol.js';
export { SPI_DEFAULT_CONFIG, SpiConfigSpace, validateSpiConfig, readSpiConfig, type SpiConfig } from './config.js';
export { checkTransfer, encodeTransferHead, decodeTransferHead, bytesPerWord, type SpiTransferHead } from './transfer.js';
export { SpiDevice, SPI_DEFAULT_RING_FEATURES, type SpiDeviceOptions, type SpiStats } from './device.js';
export { SpiRequestError } from './errors.js';
export type { SpiBackend, SpiTransfer } from './backends/backend.js';
export { SimulatedSpiBus, type SpiPeripheral } from './backends/bus.js';
export { SpiEeprom, SPI_EEPROM_READ, SPI_EEPROM_WRITE, SPI_EEPROM_RDSR, type SpiEepromOptions } from './backends/eeprom.js';
export { SpiDriver, SpiDriverError, SpiTransferError, type SpiDriverOptions, type SpiTransferRequest } from './driver.js';
