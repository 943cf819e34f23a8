/**
 * The driver side of virtio-mmio (spec 4.2.3): core's DriverTransport over the register file,
 * so @virtio/core's initializeDevice drives any virtio-mmio device. Every control register
 * access is a 32-bit aligned access (spec 4.2.2.2).
 */
import type { DriverTransport, InterruptCauses } from '@virtio/core';
import type { QueueConfig } from '@virtio/ring';
import { MMIO_MAGIC, MMIO_VERSION, MmioReg, VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_VRING } from './registers.js';

/** Access to a device's MMIO window: offsets from its base, widths in bytes, little-endian values. */
export interface MmioRegisters {
  read(offset: number, width: 1 | 2 | 4): number;
  write(offset: number, width: 1 | 2 | 4, value: number): void;
}

/** Why {@link probeMmio} found no usable device. */
export type MmioProbeFailure = 'bad-magic' | 'bad-version' | 'no-device';

export type MmioProbeResult =
  | { readonly ok: true; readonly transport: MmioDriverTransport; readonly deviceId: number; readonly vendorId: number }
  | { readonly ok: false; readonly reason: MmioProbeFailure };

/** Reads of QueueReset while waiting for a queue reset to complete. */
export const QUEUE_RESET_POLL_LIMIT = 1000;

const INT_KNOWN = VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;

/**
 * Starts device initialization as spec 4.2.3.1 says: checks MagicValue and Version, then reads
 * DeviceID; a placeholder (DeviceID 0) is ignored without touching any other register.
 */
export function probeMmio(regs: MmioRegisters): MmioProbeResult {
  if (regs.read(MmioReg.MagicValue, 4) >>> 0 !== MMIO_MAGIC) return { ok: false, reason: 'bad-magic' };
  if (regs.read(MmioReg.Version, 4) >>> 0 !== MMIO_VERSION) return { ok: false, reason: 'bad-version' };
  const deviceId = regs.read(MmioReg.DeviceID, 4) >>> 0;
  if (deviceId === 0) return { ok: false, reason: 'no-device' };
  const vendorId = regs.read(MmioReg.VendorID, 4) >>> 0;
  return { ok: true, transport: new MmioDriverTransport(regs), deviceId, vendorId };
}

/** A shared memory region as the device describes it (guest-physical base, length in bytes). */
export interface MmioSharedMemory {
  readonly base: number;
  readonly size: number;
}

export class MmioDriverTransport implements DriverTransport {
  readonly kind = 'mmio' as const;
  readonly #regs: MmioRegisters;

  /** Use {@link probeMmio} to check the device first. */
  constructor(regs: MmioRegisters) {
    this.#regs = regs;
  }

  #r(offset: number): number {
    return this.#regs.read(offset, 4) >>> 0;
  }
  #w(offset: number, value: number): void {
    this.#regs.write(offset, 4, value >>> 0);
  }

  getStatus(): number {
    return this.#r(MmioReg.Status);
  }
  setStatus(status: number): void {
    this.#w(MmioReg.Status, status);
  }

  readDeviceFeatures(): bigint {
    let f = 0n;
    for (let sel = 0; sel < 4; sel++) {
      this.#w(MmioReg.DeviceFeaturesSel, sel);
      f |= BigInt(this.#r(MmioReg.DeviceFeatures)) << BigInt(32 * sel);
    }
    return f;
  }

  writeDriverFeatures(features: bigint): void {
    for (let sel = 0; sel < 4; sel++) {
      this.#w(MmioReg.DriverFeaturesSel, sel);
      this.#w(MmioReg.DriverFeatures, Number((features >> BigInt(32 * sel)) & 0xffff_ffffn));
    }
  }

  queueMaxSize(index: number): number {
    this.#w(MmioReg.QueueSel, index);
    return this.#r(MmioReg.QueueSizeMax);
  }

  /** Spec 4.2.3.2: select, check not in use, size (at most QueueSizeMax), the three areas, QueueReady = 1. */
  setupQueue(index: number, config: QueueConfig): void {
    this.#w(MmioReg.QueueSel, index);
    if (this.#r(MmioReg.QueueReady) !== 0) return;
    if (config.size > this.#r(MmioReg.QueueSizeMax)) return;
    this.#w(MmioReg.QueueSize, config.size);
    this.#writeAddress(MmioReg.QueueDescLow, config.descTable);
    this.#writeAddress(MmioReg.QueueDriverLow, config.driverArea);
    this.#writeAddress(MmioReg.QueueDeviceLow, config.deviceArea);
    this.#w(MmioReg.QueueReady, 1);
  }

  #writeAddress(low: number, addr: number): void {
    this.#w(low, addr % 0x1_0000_0000);
    this.#w(low + 4, Math.floor(addr / 0x1_0000_0000));
  }

  queueEnabled(index: number): boolean {
    this.#w(MmioReg.QueueSel, index);
    return this.#r(MmioReg.QueueReady) !== 0;
  }

  /** Stops using queue `index`: writes 0 to QueueReady and reads it back. @returns whether it reads 0 */
  disableQueue(index: number): boolean {
    this.#w(MmioReg.QueueSel, index);
    this.#w(MmioReg.QueueReady, 0);
    return this.#r(MmioReg.QueueReady) === 0;
  }

  /** Writes 1 to QueueReset and waits until it reads back 0. @returns true when the reset completed and QueueReady reads 0 */
  resetQueue(index: number): boolean {
    this.#w(MmioReg.QueueSel, index);
    this.#w(MmioReg.QueueReset, 1);
    for (let i = 0; i < QUEUE_RESET_POLL_LIMIT; i++) {
      if (this.#r(MmioReg.QueueReset) === 0) return this.#r(MmioReg.QueueReady) === 0;
    }
    return false;
  }

  notify(index: number, data?: number): void {
    this.#w(MmioReg.QueueNotify, data ?? index);
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#regs.read(MmioReg.Config + offset, width);
  }
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#regs.write(MmioReg.Config + offset, width, value);
  }
  configGeneration(): number {
    return this.#r(MmioReg.ConfigGeneration);
  }

  /** Reads InterruptStatus and acknowledges the known bits it found (undefined bits are ignored, never acknowledged). */
  takeInterrupt(): InterruptCauses {
    const status = this.#r(MmioReg.InterruptStatus) & INT_KNOWN;
    if (status !== 0) this.#w(MmioReg.InterruptACK, status);
    return { usedBuffer: (status & VIRTIO_MMIO_INT_VRING) !== 0, configChange: (status & VIRTIO_MMIO_INT_CONFIG) !== 0 };
  }

  /** Shared memory region `shmid`, or undefined when the device does not have it (length reads -1). */
  sharedMemory(shmid: number): MmioSharedMemory | undefined {
    this.#w(MmioReg.SHMSel, shmid);
    const lenLow = this.#r(MmioReg.SHMLenLow);
    const lenHigh = this.#r(MmioReg.SHMLenHigh);
    if (lenLow === 0xffff_ffff && lenHigh === 0xffff_ffff) return undefined;
    const base = this.#r(MmioReg.SHMBaseHigh) * 0x1_0000_0000 + this.#r(MmioReg.SHMBaseLow);
    return { base, size: lenHigh * 0x1_0000_0000 + lenLow };
  }
}
