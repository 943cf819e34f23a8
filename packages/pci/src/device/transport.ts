/**
 * PciTransport: a VirtioDevice presented as a PCI function (spec 4.1), device side. The VMM
 * forwards configuration cycles to configRead/configWrite and accesses to the BARs it
 * assigned (see `layout`) to barRead/barWrite, and routes the interrupt output to the
 * interrupt controller. Negotiation, status, queues and configuration space are core's
 * VirtioTransportState; this class only translates PCI registers into calls on it.
 */
import { VirtioTransportState, type DeviceQueueFactory, type VirtioDevice } from '@virtio/core';
import type { GuestMemory } from '@virtio/ring';
import type { PciFunctionAccess } from '../access.js';
import { LEGACY_BAR, MSIX_BAR, VIRTIO_BAR, barAddress, computeLayout, installBars, type PciBar, type PciLayout, type PciRegion } from './bars.js';
import { installCapabilities } from './capabilities.js';
import { CommonCfg } from './common-cfg.js';
import { installHeader, pciIdentity, type PciIdentity, type PciIdentityOptions } from './config-header.js';
import { ConfigSpace } from './config-space.js';
import { MutableCounters, type PciCounters } from './counters.js';
import { ConfigGeneration } from './generation.js';
import { InterruptRouter } from './interrupts.js';
import { IsrStatus } from './isr.js';
import { LEGACY_HEADER_SIZE, LegacyRegisters } from './legacy.js';
import { Msix, type MsixEntry } from './msix.js';
import { NotifyArea } from './notify.js';
import { VectorMap } from './vectors.js';
import {
  PCI_COMMAND_INTX_DISABLE,
  PCI_CONFIG_SPACE_SIZE,
  PCI_HEADER,
  PCI_MSIX,
  PCI_STATUS_INTERRUPT,
  VIRTIO_PCI_CAP,
  VIRTIO_PCI_MAX_MSIX_VECTORS,
} from '../protocol.js';

/** Where the function's interrupts go; the VMM connects it to its interrupt controller. */
export interface PciInterruptOutput {
  /**
   * Sends the MSI-X message of table entry `vector`: write `data` (u32) to the 64-bit
   * address `addressHi << 32 | addressLo`, as the driver programmed the MSI-X table.
   */
  msi(vector: number, addressLo: number, addressHi: number, data: number): void;
  /** INTA# changed level (true = asserted). Only used while MSI-X is disabled. */
  intx(asserted: boolean): void;
  /**
   * Optional: the driver rewrote the Message Address or Data of table entry `vector` (read it
   * with `msixEntry`). A VMM that delivers vectors through KVM irqfds updates that vector's
   * GSI route here; masking and pending bits stay with the transport, which simply does not
   * call `msi` for a masked vector.
   */
  msixEntryChanged?(vector: number): void;
}

export interface PciTransportOptions extends PciIdentityOptions {
  /** Guest memory the device's queues live in. */
  readonly memory: GuestMemory;
  readonly interrupt: PciInterruptOutput;
  /**
   * Number of MSI-X table entries, 0..0x800 (default: one per queue plus one for
   * configuration changes, at least 2). 0 leaves out the MSI-X capability: INT#x only.
   */
  readonly msixVectors?: number;
  /**
   * notify_off_multiplier in bytes: 0 (every queue notifies at the same address) or a power
   * of two that is a multiple of 4 (default 4; 4096 puts each queue on its own page).
   */
  readonly notifyOffMultiplier?: number;
  /** Replaces @virtio/ring's queue construction (tests, instrumentation). */
  readonly createQueue?: DeviceQueueFactory;
}

/** One queue's Queue Notify address, for binding an ioeventfd. */
export interface PciNotifyRegion {
  readonly queue: number;
  readonly bar: number;
  /** Byte offset in the BAR. */
  readonly offset: number;
  /** Bytes the driver writes: 2, or 4 with VIRTIO_F_NOTIFICATION_DATA negotiated. */
  readonly width: 2 | 4;
  /** The low 16 bits the driver writes (the queue index): the ioeventfd datamatch when addresses are shared. */
  readonly value: number;
}

const isValidMultiplier = (m: number): boolean => m === 0 || (Number.isInteger(m) && m >= 4 && (m & (m - 1)) === 0);

export class PciTransport implements PciFunctionAccess {
  /** Core's negotiation state machine for this device. */
  readonly state: VirtioTransportState;
  readonly identity: PciIdentity;
  /** BAR sizes and contents, and where each virtio structure lies. */
  readonly layout: PciLayout;
  readonly #counters = new MutableCounters();
  readonly #space = new ConfigSpace();
  readonly #isr: IsrStatus;
  readonly #msix: Msix | undefined;
  readonly #msixCap: number | undefined;
  readonly #pciCfgCap: number;
  readonly #common: CommonCfg;
  readonly #notify: NotifyArea;
  readonly #generation: ConfigGeneration;
  readonly #vectors: VectorMap;
  readonly #windows: readonly PciRegion[];
  readonly #legacy: LegacyRegisters | undefined;
  /** Size in bytes of each BAR index 0..5, 0 where not implemented (resolved once for the access path). */
  readonly #barSizes = new Float64Array(6);

  /**
   * @throws RangeError for options out of range (msixVectors, notifyOffMultiplier, a device
   * type without a PCI Device ID); TypeError from core when the device itself is malformed.
   */
  constructor(device: VirtioDevice, opts: PciTransportOptions) {
    const multiplier = opts.notifyOffMultiplier ?? 4;
    if (!isValidMultiplier(multiplier)) throw new RangeError(`notifyOffMultiplier ${multiplier}: 0 or a power of two >= 4`);
    const vectors = opts.msixVectors ?? Math.min(VIRTIO_PCI_MAX_MSIX_VECTORS, Math.max(2, device.numQueues + 1));
    if (!Number.isInteger(vectors) || vectors < 0 || vectors > VIRTIO_PCI_MAX_MSIX_VECTORS) {
      throw new RangeError(`msixVectors ${vectors} outside 0..${VIRTIO_PCI_MAX_MSIX_VECTORS}`);
    }
    this.identity = pciIdentity(device.deviceId, opts);
    this.layout = computeLayout({
      numQueues: device.numQueues,
      configSize: device.configSize,
      notifyOffMultiplier: multiplier,
      msixVectors: vectors,
      sharedMemory: device.sharedMemoryRegions ?? [],
      legacySize: opts.transitional ? LEGACY_HEADER_SIZE + device.configSize : undefined,
    });
    const out = opts.interrupt;
    this.#isr = new IsrStatus((level) => out.intx(level));
    this.#msix =
      vectors > 0
        ? new Msix(vectors, (v, lo, hi, data) => out.msi(v, lo, hi, data), this.#counters, (v) => out.msixEntryChanged?.(v))
        : undefined;
    this.#vectors = new VectorMap(vectors, device.numQueues);
    this.state = new VirtioTransportState(device, {
      memory: opts.memory,
      interrupt: new InterruptRouter(this.#msix, this.#isr, this.#vectors),
      transport: 'pci',
      // A transitional device also serves legacy drivers, which never set FEATURES_OK.
      modern: !opts.transitional,
      createQueue: opts.createQueue,
    });
    this.#generation = new ConfigGeneration(() => this.state.configGeneration);
    this.#common = new CommonCfg({
      state: this.state,
      vectors: this.#vectors,
      generation: this.#generation,
      counters: this.#counters,
      onReset: () => this.#deviceReset(),
    });
    this.#notify = new NotifyArea(this.state, multiplier, this.#counters);
    this.#legacy = opts.transitional
      ? new LegacyRegisters({
          state: this.state,
          isr: this.#isr,
          vectors: this.#vectors,
          counters: this.#counters,
          msixEnabled: () => this.msixEnabled,
          onReset: () => this.#deviceReset(),
        })
      : undefined;
    const l = this.layout;
    for (const b of l.bars) this.#barSizes[b.index] = b.size;
    this.#windows = [l.common, l.isr, l.notify, ...(l.device ? [l.device] : [])];

    const s = this.#space;
    installHeader(s, this.identity, this.#legacy !== undefined);
    installBars(s, l);
    const caps = installCapabilities(s, l);
    this.#pciCfgCap = caps.pciCfg;
    this.#msixCap = caps.msix;
    s.hook(PCI_HEADER.command, PCI_HEADER.status + 2, () => this.#refreshStatus(), () => this.#refreshInterrupts());
    if (caps.msix !== undefined) s.hook(caps.msix, caps.msix + 12, undefined, () => this.#msixControlWritten());
    const data = caps.pciCfg + VIRTIO_PCI_CAP.pci_cfg_data;
    s.hook(
      caps.pciCfg,
      data + 4,
      (off, w) => {
        if (off + w > data) this.#windowRead();
      },
      (off, w) => {
        if (off + w > data) this.#windowWrite();
      },
    );
  }

  /** The implemented BARs (same as `layout.bars`), for a bus that assigns their addresses. */
  get bars(): readonly PciBar[] {
    return this.layout.bars;
  }

  /** Accesses the transport ignored or answered with zero, and MSI-X activity. */
  get counters(): PciCounters {
    return this.#counters;
  }

  /** Whether INTA# is asserted now. */
  get intxAsserted(): boolean {
    return this.#isr.asserted;
  }

  /** Whether the driver enabled MSI-X in the MSI-X capability. */
  get msixEnabled(): boolean {
    return this.#msix?.enabled ?? false;
  }

  // ------------------------------------------------------------ configuration space

  /**
   * A configuration read of `width` (1, 2, 4) bytes at `offset` (0..255, aligned to width).
   * Anything else reads 0 and is counted.
   */
  configRead(offset: number, width: number): number {
    if (!this.#configAccessOk(offset, width)) {
      this.#counters.ignoredReads++;
      return 0;
    }
    return this.#space.read(offset, width as 1 | 2 | 4);
  }

  /** A configuration write; only driver-writable bits change. Bad offsets/widths are ignored and counted. */
  configWrite(offset: number, width: number, value: number): void {
    if (!this.#configAccessOk(offset, width)) {
      this.#counters.ignoredWrites++;
      return;
    }
    this.#space.write(offset, width as 1 | 2 | 4, value);
  }

  /** The address the driver or firmware assigned to BAR `index` (bytes), or undefined when not implemented. */
  barAddress(index: number): number | undefined {
    return barAddress(this.#space, this.layout, index);
  }

  // ------------------------------------------------------------ BARs

  /**
   * A read of `width` (1, 2, 4) bytes at byte `offset` of BAR `bar`. Offsets where no field
   * answers, odd widths and unimplemented BARs read 0 and are counted. Reading the ISR status
   * clears it.
   */
  barRead(bar: number, offset: number, width: number): number {
    if (!this.#barAccessOk(bar, offset, width)) {
      this.#counters.ignoredReads++;
      return 0;
    }
    if (bar === VIRTIO_BAR) {
      const l = this.layout;
      if (inRegion(l.common, offset)) return this.#common.read(offset - l.common.offset, width);
      if (inRegion(l.isr, offset) && width === 1) return this.#isr.readAndClear();
      if (l.device && inRegion(l.device, offset) && offset + width <= l.device.offset + l.device.length) {
        this.#generation.sync();
        return this.state.readConfig(offset - l.device.offset, width as 1 | 2 | 4);
      }
    } else if (bar === LEGACY_BAR && this.#legacy) {
      return this.#legacy.read(offset, width);
    } else if (bar === MSIX_BAR && this.#msix) {
      const { msixTable, msixPba } = this.layout;
      if (msixTable && inRegion(msixTable, offset)) return this.#msix.readTable(offset - msixTable.offset, width);
      if (msixPba && inRegion(msixPba, offset)) return this.#msix.readPba(offset - msixPba.offset, width);
    }
    this.#counters.ignoredReads++;
    return 0;
  }

  /** A write to BAR `bar`; ignored and counted where no writable field answers. */
  barWrite(bar: number, offset: number, width: number, value: number): void {
    if (!this.#barAccessOk(bar, offset, width)) {
      this.#counters.ignoredWrites++;
      return;
    }
    if (bar === VIRTIO_BAR) {
      const l = this.layout;
      if (inRegion(l.common, offset)) return this.#common.write(offset - l.common.offset, width, value);
      if (inRegion(l.notify, offset)) return this.#notify.write(offset - l.notify.offset, width, value);
      if (l.device && inRegion(l.device, offset) && offset + width <= l.device.offset + l.device.length) {
        return this.state.writeConfig(offset - l.device.offset, width as 1 | 2 | 4, value);
      }
    } else if (bar === LEGACY_BAR && this.#legacy) {
      return this.#legacy.write(offset, width, value);
    } else if (bar === MSIX_BAR && this.#msix) {
      const { msixTable } = this.layout;
      if (msixTable && inRegion(msixTable, offset)) return this.#msix.writeTable(offset - msixTable.offset, width, value);
    }
    this.#counters.ignoredWrites++;
  }

  // ------------------------------------------------------------ notifications and interrupts

  /**
   * Every queue's Queue Notify address, for binding ioeventfds. `width` reflects the
   * negotiated features, so call it after FEATURES_OK (e.g. when the driver sets DRIVER_OK).
   */
  notifyRegions(): PciNotifyRegion[] {
    const width = this.state.notificationData ? 4 : 2;
    const { notify, notifyOffMultiplier } = this.layout;
    const out: PciNotifyRegion[] = [];
    for (let q = 0; q < this.state.numQueues; q++) {
      out.push({ queue: q, bar: notify.bar, offset: notify.offset + q * notifyOffMultiplier, width, value: q });
    }
    return out;
  }

  /**
   * An available buffer notification that bypassed barWrite (an ioeventfd fired): `data` is
   * the 32-bit value with VIRTIO_F_NOTIFICATION_DATA. Same checks as a Queue Notify write.
   */
  queueNotify(queue: number, data?: number): void {
    this.state.notify(queue, data);
  }

  /** MSI-X table entry `vector` as the driver programmed it (for irqfd routing). @throws RangeError without such an entry */
  msixEntry(vector: number): MsixEntry {
    if (!this.#msix) throw new RangeError('the function has no MSI-X capability');
    return this.#msix.entry(vector);
  }

  /** Whether MSI-X vector `vector` is pending (fired while masked). */
  msixPending(vector: number): boolean {
    return this.#msix !== undefined && vector >= 0 && vector < this.#msix.vectors && this.#msix.pending(vector);
  }

  // ------------------------------------------------------------ internals

  #configAccessOk(offset: number, width: number): boolean {
    return (
      (width === 1 || width === 2 || width === 4) &&
      Number.isInteger(offset) &&
      offset >= 0 &&
      offset + width <= PCI_CONFIG_SPACE_SIZE &&
      offset % width === 0
    );
  }

  #barAccessOk(bar: number, offset: number, width: number): boolean {
    const size = bar >= 0 && bar < 6 ? this.#barSizes[bar] : 0;
    return (
      size > 0 &&
      (width === 1 || width === 2 || width === 4) &&
      Number.isInteger(offset) &&
      offset >= 0 &&
      offset + width <= size &&
      offset % width === 0
    );
  }

  #deviceReset(): void {
    this.#isr.reset();
    this.#vectors.reset();
    this.#common.reset();
    this.#legacy?.reset();
  }

  /** The Status register's Interrupt Status bit is the OR of the ISR bits while MSI-X is off. */
  #refreshStatus(): void {
    const s = this.#space;
    const on = this.#isr.value !== 0 && !this.msixEnabled;
    const status = s.get(PCI_HEADER.status, 2);
    s.set(PCI_HEADER.status, 2, on ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT);
  }

  #refreshInterrupts(): void {
    const intxDisabled = (this.#space.get(PCI_HEADER.command, 2) & PCI_COMMAND_INTX_DISABLE) !== 0;
    this.#isr.suppress(this.msixEnabled || intxDisabled);
  }

  #msixControlWritten(): void {
    if (this.#msix === undefined || this.#msixCap === undefined) return;
    this.#msix.setControl(this.#space.get(this.#msixCap + PCI_MSIX.flags, 2));
    this.#refreshInterrupts();
  }

  /** The VIRTIO_PCI_CAP_PCI_CFG window's target, when it addresses cap.length bytes inside a virtio structure. */
  #window(): { bar: number; offset: number; width: 1 | 2 | 4 } | undefined {
    const s = this.#space;
    const cap = this.#pciCfgCap;
    const bar = s.get(cap + VIRTIO_PCI_CAP.bar, 1);
    const offset = s.get(cap + VIRTIO_PCI_CAP.offset, 4);
    const width = s.get(cap + VIRTIO_PCI_CAP.length, 4);
    if (width !== 1 && width !== 2 && width !== 4) return undefined;
    if (offset % width !== 0) return undefined;
    const inside = this.#windows.some((r) => r.bar === bar && offset >= r.offset && offset + width <= r.offset + r.length);
    return inside ? { bar, offset, width } : undefined;
  }

  #windowRead(): void {
    const data = this.#pciCfgCap + VIRTIO_PCI_CAP.pci_cfg_data;
    const w = this.#window();
    if (!w) {
      this.#counters.ignoredReads++;
      this.#space.set(data, 4, 0);
      return;
    }
    this.#space.set(data, 4, this.barRead(w.bar, w.offset, w.width));
  }

  #windowWrite(): void {
    const w = this.#window();
    if (!w) {
      this.#counters.ignoredWrites++;
      return;
    }
    this.barWrite(w.bar, w.offset, w.width, this.#space.get(this.#pciCfgCap + VIRTIO_PCI_CAP.pci_cfg_data, w.width));
  }
}

function inRegion(r: PciRegion, offset: number): boolean {
  return offset >= r.offset && offset < r.offset + r.length;
}
