/**
 * Generation-consistent reads of the device configuration space (spec 2.5.1): read the
 * generation, read the fields, read the generation again, retry while it changed.
 */
import { DeviceInitError } from './errors.js';
import type { DriverTransport } from './transport.js';

/** Read-only access to the configuration space, little-endian. */
export interface ConfigReader {
  u8(offset: number): number;
  u16(offset: number): number;
  u32(offset: number): number;
  /** A 64-bit field as two 32-bit reads (never assumed atomic), as a BigInt. */
  u64(offset: number): bigint;
}

/** Give up after this many generation changes in a row (a device changing its configuration forever). */
export const CONFIG_READ_ATTEMPTS = 64;

export function configReader(transport: DriverTransport): ConfigReader {
  return {
    u8: (o) => transport.readConfig(o, 1),
    u16: (o) => transport.readConfig(o, 2),
    u32: (o) => transport.readConfig(o, 4),
    u64: (o) => BigInt(transport.readConfig(o, 4) >>> 0) | (BigInt(transport.readConfig(o + 4, 4) >>> 0) << 32n),
  };
}

/**
 * Runs `read` until the configuration generation is the same before and after it.
 * @throws DeviceInitError 'config-unstable' after {@link CONFIG_READ_ATTEMPTS} attempts
 */
export function readConfigConsistent<T>(transport: DriverTransport, read: (config: ConfigReader) => T): T {
  const reader = configReader(transport);
  for (let i = 0; i < CONFIG_READ_ATTEMPTS; i++) {
    const before = transport.configGeneration();
    const value = read(reader);
    if (transport.configGeneration() === before) return value;
  }
  throw new DeviceInitError('config-unstable', `configuration generation changed ${CONFIG_READ_ATTEMPTS} times in a row`);
}
