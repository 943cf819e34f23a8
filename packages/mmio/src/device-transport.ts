/**
 * The device side of virtio-mmio (spec 4.2): a register file over the shared
 * {@link VirtioTransportState}. `read`/`write` take guest MMIO accesses as a VMM traps them;
 * undefined offsets, wrong widths and writes to read-only registers are ignored (reads of
 * them return 0) and counted, never thrown.
 */
import { VirtioTransportState, type TransportCounters, type VirtioDevice } from '@virtio/core';
import type { GuestMemory } from '@virtio/ring';
import { legacyQueueAddresses } from './legacy-queue.js';
import {
  MMIO_LEGACY_VERSION,
  MMIO_MAGIC,
  MMIO_VERSION,
  MmioReg,
  VIRTIO_MMIO_INT_CONFIG,
  VIRTIO_MMIO_INT_VRING,
} from './registers.js';

export interface MmioTransportOptions {
  /** Guest memory the device's queues live in. */
  readonly memory: GuestMemory;
  /**
   * The device's interrupt line, level-triggered: called with true when InterruptStatus becomes
   * non-zero and false when the driver acknowledged every bit (or on reset).
   */
  readonly interruptLine?: (asserted: boolean) => void;
  /** VendorID register. Default 0x554d4551 ("QEMU"), which Linux does not care about. */
  readonly vendorId?: number;
  /** 2 (default) or 1 for the legacy interface (spec 4.2.4: GuestPageSize, QueuePFN, QueueAlign). */
  readonly version?: 1 | 2;
  /** Guest-physical base address of each shared memory region (by shmid) the device exposes. */
  readonly sharedMemoryBase?: (shmid: number) => number | undefined;
}

const U32 = 0xffff_ffff;

export class MmioTransport {
  /** Offset of QueueNotify: bind an ioeventfd here to take notifications off the vCPU exit path. */
  static readonly NOTIFY_OFFSET = MmioReg.QueueNotify;
  readonly state: VirtioTransportState;
  readonly device: VirtioDevice;
  readonly version: 1 | 2;
  readonly vendorId: number;
  /** Bytes of MMIO space the device decodes: registers plus configuration space, at least 0x200. */
  readonly regionSize: number;

  readonly #line: ((asserted: boolean) => void) | undefined;
  readonly #shmBase: ((shmid: number) => number | undefined) | undefined;
  #interruptStatus = 0;
  #deviceFeaturesSel = 0;
  #driverFeaturesSel = 0;
  #queueSel = 0;
  #shmSel = 0;
  #guestPageSize = 4096;
  /** Legacy only: QueueAlign and QueuePFN per queue. */
  readonly #queueAlign: number[] = [];
  readonly #queuePfn: number[] = [];

  /** @throws TypeError when the device is malformed (see VirtioTransportState). */
  constructor(device: VirtioDevice, opts: MmioTransportOptions) {
    this.device = device;
    this.version = opts.version ?? MMIO_VERSION;
    this.vendorId = (opts.vendorId ?? 0x554d4551) >>> 0;
    this.#line = opts.interruptLine;
    this.#shmBase = opts.sharedMemoryBase;
    this.state = new VirtioTransportState(device, {
      memory: opts.memory,
      transport: 'mmio',
      modern: this.version === MMIO_VERSION,
      interrupt: {
        usedBuffer: () => this.#raise(VIRTIO_MMIO_INT_VRING),
        configChange: () => this.#raise(VIRTIO_MMIO_INT_CONFIG),
      },
    });
    this.regionSize = MmioReg.Config + Math.max(0x100, Math.ceil(device.configSize / 0x100) * 0x100);
  }

  /** Ignored and malformed accesses (shared with the state machine). */
  get counters(): TransportCounters {
    return this.state.counters;
  }

  /** Current InterruptStatus. */
  get interruptStatus(): number {
    return this.#interruptStatus;
  }

  /**
   * A reset from the platform (e.g. machine reboot): as if the driver wrote 0 to Status. When
   * the device's reset waits for in-flight work, `state.whenResetComplete()` resolves once done.
   */
  reset(): void {
    this.state.reset();
    this.#reset();
  }

  /** An available buffer notification for queue `index` without a register write (ioeventfd with datamatch). */
  notifyQueue(index: number): void {
    this.state.notify(index);
  }

  /** A guest read of `width` bytes at `offset`. Never throws. */
  read(offset: number, width: number): number {
    if (offset >= MmioReg.Config) return this.#readConfig(offset - MmioReg.Config, width);
    if (!this.#isRegisterAccess(offset, width)) return 0;
    const s = this.state;
    const legacy = this.version === MMIO_LEGACY_VERSION;
    switch (offset) {
      case MmioReg.MagicValue:
        return MMIO_MAGIC;
      case MmioReg.Version:
        return this.version;
      case MmioReg.DeviceID:
        return this.device.deviceId;
      case MmioReg.VendorID:
        return this.vendorId;
      case MmioReg.DeviceFeatures:
        return s.deviceFeatureWord(this.#deviceFeaturesSel);
      case MmioReg.QueueSizeMax:
        return s.queue(this.#queueSel)?.maxSize ?? 0;
      case MmioReg.QueuePFN:
        if (!legacy) break;
        return s.queue(this.#queueSel)?.enabled ? (this.#queuePfn[this.#queueSel] ?? 0) : 0;
      case MmioReg.QueueReady:
        if (legacy) break;
        return s.queue(this.#queueSel)?.enabled ? 1 : 0;
      case MmioReg.InterruptStatus:
        return this.#interruptStatus;
      case MmioReg.Status:
        // The old status while the device finishes resetting, 0 only then (spec 2.4, [basic.drv.7]).
        return s.status;
      case MmioReg.SHMLenLow:
      case MmioReg.SHMLenHigh:
      case MmioReg.SHMBaseLow:
      case MmioReg.SHMBaseHigh:
        if (legacy) break;
        return this.#readShm(offset);
      case MmioReg.QueueReset:
        // [mmio.dev.9] 1 while the queue reset is under way; then 0, and QueueReady 0 too.
        if (legacy) break;
        return s.queue(this.#queueSel)?.resetting ? 1 : 0;
      case MmioReg.ConfigGeneration:
        if (legacy) break;
        return s.configGeneration;
    }
    // Undefined offsets and write-only registers read as 0.
    s.counters.badAccesses++;
    return 0;
  }

  /** A guest write of `width` bytes at `offset` (value taken as u32). Never throws. */
  write(offset: number, width: number, value: number): void {
    if (offset >= MmioReg.Config) {
      this.#writeConfig(offset - MmioReg.Config, width, value);
      return;
    }
    if (!this.#isRegisterAccess(offset, width)) return;
    const v = value >>> 0;
    const s = this.state;
    if (s.resetPending) {
      // While the device resets, the driver may only read Status (spec 2.4).
      s.counters.ignoredWrites++;
      return;
    }
    const legacy = this.version === MMIO_LEGACY_VERSION;
    const q = s.queue(this.#queueSel);
    switch (offset) {
      case MmioReg.DeviceFeaturesSel:
        this.#deviceFeaturesSel = v;
        return;
      case MmioReg.DriverFeatures:
        s.writeDriverFeatureWord(this.#driverFeaturesSel, v);
        return;
      case MmioReg.DriverFeaturesSel:
        this.#driverFeaturesSel = v;
        return;
      case MmioReg.GuestPageSize:
        if (!legacy) break;
        if (v === 0 || (v & (v - 1)) !== 0) break;
        this.#guestPageSize = v;
        return;
      case MmioReg.QueueSel:
        this.#queueSel = v;
        return;
      case MmioReg.QueueSize:
        if (q) q.setSize(v);
        else s.counters.ignoredWrites++;
        return;
      case MmioReg.QueueAlign:
        if (!legacy) break;
        this.#queueAlign[this.#queueSel] = v;
        return;
      case MmioReg.QueuePFN:
        if (!legacy) break;
        this.#writeQueuePfn(v);
        return;
      case MmioReg.QueueReady:
        if (legacy) break;
        if (v & 1) s.enableQueue(this.#queueSel);
        else s.disableQueue(this.#queueSel);
        return;
      case MmioReg.QueueNotify:
        if (s.notificationData) s.notify(v & 0xffff, v);
        else s.notify(v);
        return;
      case MmioReg.InterruptACK:
        this.#interruptStatus &= ~v;
        if (this.#interruptStatus === 0) this.#line?.(false);
        return;
      case MmioReg.Status:
        s.writeStatus(v);
        if (v === 0) this.#reset();
        return;
      case MmioReg.QueueDescLow:
      case MmioReg.QueueDescHigh:
      case MmioReg.QueueDriverLow:
      case MmioReg.QueueDriverHigh:
      case MmioReg.QueueDeviceLow:
      case MmioReg.QueueDeviceHigh: {
        if (legacy) break;
        const area = offset < MmioReg.QueueDriverLow ? 'desc' : offset < MmioReg.QueueDeviceLow ? 'driver' : 'device';
        if (q) q.setAddressHalf(area, (offset & 4) === 4 ? 1 : 0, v);
        else s.counters.ignoredWrites++;
        return;
      }
      case MmioReg.SHMSel:
        if (legacy) break;
        this.#shmSel = v;
        return;
      case MmioReg.QueueReset:
        if (legacy) break;
        if (v === 1) s.resetQueue(this.#queueSel);
        else s.counters.ignoredWrites++;
        return;
    }
    // Undefined offsets and read-only registers ignore writes.
    s.counters.badAccesses++;
  }

  /** Control registers: 32-bit wide and aligned accesses only (spec 4.2.2.2). */
  #isRegisterAccess(offset: number, width: number): boolean {
    if (width === 4 && Number.isInteger(offset) && offset >= 0 && (offset & 3) === 0) return true;
    this.state.counters.badAccesses++;
    return false;
  }

  #readConfig(offset: number, width: number): number {
    if (width !== 1 && width !== 2 && width !== 4) {
      this.state.counters.badAccesses++;
      return 0;
    }
    return this.state.readConfig(offset, width);
  }

  #writeConfig(offset: number, width: number, value: number): void {
    if (width !== 1 && width !== 2 && width !== 4) {
      this.state.counters.badAccesses++;
      return;
    }
    this.state.writeConfig(offset, width, value);
  }

  #readShm(offset: number): number {
    const region = this.device.sharedMemoryRegions?.find((r) => r.id === this.#shmSel);
    const base = region ? this.#shmBase?.(region.id) : undefined;
    // A non-existent region reads length -1 and base 0xffffffffffffffff.
    if (!region || base === undefined) return U32;
    const value = offset === MmioReg.SHMLenLow || offset === MmioReg.SHMLenHigh ? region.size : base;
    return offset === MmioReg.SHMLenLow || offset === MmioReg.SHMBaseLow ? value % 0x1_0000_0000 : Math.floor(value / 0x1_0000_0000);
  }

  #writeQueuePfn(pfn: number): void {
    const s = this.state;
    const q = s.queue(this.#queueSel);
    if (!q) {
      s.counters.ignoredWrites++;
      return;
    }
    if (pfn === 0) {
      if (q.enabled) s.disableQueue(q.index);
      this.#queuePfn[q.index] = 0;
      return;
    }
    const addrs = legacyQueueAddresses(pfn, this.#guestPageSize, q.size, this.#queueAlign[q.index] ?? 4096);
    if (!addrs || q.enabled) {
      s.counters.ignoredWrites++;
      return;
    }
    q.setAddress('desc', addrs.desc);
    q.setAddress('driver', addrs.driver);
    q.setAddress('device', addrs.device);
    s.enableQueue(q.index);
    this.#queuePfn[q.index] = pfn;
  }

  #raise(bit: number): void {
    const was = this.#interruptStatus;
    this.#interruptStatus |= bit;
    if (was === 0) this.#line?.(true);
  }

  /** Status 0 written: the state machine reset; InterruptStatus cleared (spec 4.2.2.1). */
  #reset(): void {
    const was = this.#interruptStatus;
    this.#interruptStatus = 0;
    if (was !== 0) this.#line?.(false);
    this.#deviceFeaturesSel = 0;
    this.#driverFeaturesSel = 0;
    this.#queueSel = 0;
    this.#shmSel = 0;
    this.#queuePfn.length = 0;
  }
}
