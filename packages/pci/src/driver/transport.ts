/**
 * PciDriverTransport: the driver side of VIRTIO over PCI (spec 4.1). It matches the function's
 * IDs, walks its capabilities, and then speaks the common configuration structure: status,
 * feature negotiation, queue set-up, MSI-X vector mapping, notifications, device-specific
 * configuration and INT#x/ISR handling. Every access has the width of its field (spec 4.1.3.1:
 * 64-bit fields as two 32-bit halves) and stays inside the structure the device declared.
 */
import {
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_NOTIF_CONFIG_DATA,
  VIRTIO_F_RING_PACKED,
  FEATURE_WORDS,
  encodeNotificationData,
  hasFeature,
} from '@virtio/core';
import type { PciFunctionAccess } from '../access.js';
import {
  COMMON_CFG,
  PCI_HEADER,
  PCI_MSIX,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_UPPER_ADDR,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  VIRTIO_MSI_NO_VECTOR,
  VIRTIO_PCI_ISR_CONFIG,
  VIRTIO_PCI_ISR_QUEUE,
} from '../protocol.js';
import { PciDiscoveryError, discoverCapabilities, matchVirtioDevice, type FoundStructure, type VirtioPciCapabilities } from './discovery.js';

/** Where a queue lives, as the driver laid it out (guest-physical addresses, size in descriptors). */
export interface PciQueueSetup {
  readonly size: number;
  readonly descTable: number;
  readonly driverArea: number;
  readonly deviceArea: number;
  /** MSI-X vector for the queue's used buffer notifications (default VIRTIO_MSI_NO_VECTOR). */
  readonly vector?: number;
}

/** An MSI-X message the driver programs into a table entry. */
export interface MsiMessage {
  readonly addressLo: number;
  readonly addressHi: number;
  readonly data: number;
}

/** What an interrupt told the driver: whether the configuration changed, and which queues to look at. */
export interface InterruptCause {
  readonly configChanged: boolean;
  readonly queues: readonly number[];
}

/** Options of {@link PciDriverTransport}. */
export interface PciDriverOptions {
  /**
   * How many times to read device_status after writing 0 before giving up (spec 4.1.4.3.2:
   * wait for 0 before reinitializing). Default 1000.
   */
  readonly resetPolls?: number;
}

/** The part of the common configuration a driver relies on: everything up to queue_notif_config_data. */
const COMMON_CFG_MIN = COMMON_CFG.queue_notif_config_data + 2;
/** The driver maps at most this much of a structure (spec 4.1.4.1 note: 4 KiB is enough for current devices). */
const MAP_LIMIT = 4096;

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

export class PciDriverTransport {
  /** The Virtio Device ID matched from the PCI Device ID. */
  readonly deviceId: number;
  readonly caps: VirtioPciCapabilities;
  readonly #io: PciFunctionAccess;
  readonly #resetPolls: number;
  #features = 0n;
  /** Per queue: the Queue Notify offset in the notify structure, and the vector, once set up. */
  readonly #notifyOff = new Map<number, number>();
  readonly #queueVector = new Map<number, number>();
  #configVector = VIRTIO_MSI_NO_VECTOR;
  #msixOn = false;

  /**
   * @throws PciDiscoveryError when the function is not a virtio 1.x device: wrong IDs, missing
   * capabilities (a legacy-only device), or structures too small to operate.
   */
  constructor(io: PciFunctionAccess, opts: PciDriverOptions = {}) {
    this.#io = io;
    this.#resetPolls = opts.resetPolls ?? 1000;
    const vendor = io.configRead(PCI_HEADER.vendor_id, 2);
    const device = io.configRead(PCI_HEADER.device_id, 2);
    const id = matchVirtioDevice(vendor, device);
    if (id === undefined) throw new PciDiscoveryError(`PCI ${hex(vendor)}:${hex(device)} is not a virtio device`);
    this.deviceId = id;
    this.caps = discoverCapabilities(io);
    const { common, notify, isr } = this.caps;
    if (common.length < COMMON_CFG_MIN) throw new PciDiscoveryError(`common configuration of ${common.length} bytes is too small`);
    if (isr.length < 1) throw new PciDiscoveryError('empty ISR status structure');
    if (notify.length < 2) throw new PciDiscoveryError('notification structure shorter than 2 bytes');
  }

  // ------------------------------------------------------------ status and reset

  /** device_status. */
  get status(): number {
    return this.#common(COMMON_CFG.device_status, 1);
  }

  /** Writes device_status (never 0: use {@link reset}). */
  setStatus(value: number): void {
    this.#setCommon(COMMON_CFG.device_status, 1, value & 0xff);
  }

  /**
   * Resets the device: writes 0 to device_status and waits until it reads back 0.
   * @throws PciDiscoveryError when the device never presents 0.
   */
  reset(): void {
    this.#setCommon(COMMON_CFG.device_status, 1, 0);
    for (let i = 0; i < this.#resetPolls; i++) {
      if (this.status === 0) {
        this.#features = 0n;
        this.#notifyOff.clear();
        this.#queueVector.clear();
        this.#configVector = VIRTIO_MSI_NO_VECTOR;
        return;
      }
    }
    throw new PciDiscoveryError('device_status did not read back 0 after reset');
  }

  // ------------------------------------------------------------ features

  /** The features the device offers (all 128 bits, 32 at a time). */
  deviceFeatures(): bigint {
    let f = 0n;
    for (let sel = 0; sel < FEATURE_WORDS; sel++) {
      this.#setCommon(COMMON_CFG.device_feature_select, 4, sel);
      f |= BigInt(this.#common(COMMON_CFG.device_feature, 4)) << BigInt(32 * sel);
    }
    return f;
  }

  /** Writes the features the driver accepts (the caller keeps them a subset of the offer). */
  writeDriverFeatures(features: bigint): void {
    for (let sel = 0; sel < FEATURE_WORDS; sel++) {
      this.#setCommon(COMMON_CFG.driver_feature_select, 4, sel);
      this.#setCommon(COMMON_CFG.driver_feature, 4, Number((features >> BigInt(32 * sel)) & 0xffff_ffffn));
    }
    this.#features = features;
  }

  /** The features last written by {@link writeDriverFeatures}. */
  get driverFeatures(): bigint {
    return this.#features;
  }

  // ------------------------------------------------------------ queues

  /** num_queues: the number of regular virtqueues. */
  get numQueues(): number {
    return this.#common(COMMON_CFG.num_queues, 2);
  }

  /** queue_size of queue `index` after reset: its maximum size, 0 when the queue does not exist. */
  queueMaxSize(index: number): number {
    this.#select(index);
    return this.#common(COMMON_CFG.queue_size, 2);
  }

  /**
   * Configures queue `index` and enables it (spec 4.1.5.1.3): size, the three areas, the MSI-X
   * vector (verified by reading it back), then queue_enable = 1.
   * @returns false when the device refused the vector (it read back VIRTIO_MSI_NO_VECTOR); the
   *   queue is then configured but not enabled, so the caller may retry with another vector.
   * @throws RangeError for a size the negotiated layout does not allow or above the maximum, or
   *   a vector outside the MSI-X table; PciDiscoveryError when the device's notify offset lies
   *   outside its notification structure.
   */
  setupQueue(index: number, q: PciQueueSetup): boolean {
    const max = this.queueMaxSize(index);
    const packed = hasFeature(this.#features, VIRTIO_F_RING_PACKED);
    if (q.size < 1 || q.size > max || (!packed && !isPow2(q.size))) {
      throw new RangeError(`queue ${index}: size ${q.size} not allowed (max ${max}, ${packed ? 'packed' : 'split'})`);
    }
    if (q.size !== max) this.#setCommon(COMMON_CFG.queue_size, 2, q.size);
    this.#set64(COMMON_CFG.queue_desc, q.descTable);
    this.#set64(COMMON_CFG.queue_driver, q.driverArea);
    this.#set64(COMMON_CFG.queue_device, q.deviceArea);
    const vector = q.vector ?? VIRTIO_MSI_NO_VECTOR;
    if (!this.#mapVector(COMMON_CFG.queue_msix_vector, vector)) return false;
    this.#queueVector.set(index, vector);
    const off = this.#common(COMMON_CFG.queue_notify_off, 2) * this.caps.notify.notifyOffMultiplier;
    const width = hasFeature(this.#features, VIRTIO_F_NOTIFICATION_DATA) ? 4 : 2;
    if (off + width > this.caps.notify.length) {
      throw new PciDiscoveryError(`queue ${index}: notify offset ${off} outside the notification structure`);
    }
    this.#notifyOff.set(index, off);
    this.#setCommon(COMMON_CFG.queue_enable, 2, 1);
    return true;
  }

  /** Whether queue `index` reads as enabled. */
  queueEnabled(index: number): boolean {
    this.#select(index);
    return this.#common(COMMON_CFG.queue_enable, 2) === 1;
  }

  /**
   * Resets queue `index` (VIRTIO_F_RING_RESET): writes 1 to queue_reset and waits until it reads
   * back 0. Afterwards {@link setupQueue} may re-enable it, with other parameters if wanted.
   * @throws PciDiscoveryError when queue_reset never reads 0 or the structure lacks it.
   */
  resetQueue(index: number): void {
    if (this.caps.common.length < COMMON_CFG.queue_reset + 2) throw new PciDiscoveryError('common configuration has no queue_reset');
    this.#select(index);
    this.#setCommon(COMMON_CFG.queue_reset, 2, 1);
    for (let i = 0; i < this.#resetPolls; i++) {
      if (this.#common(COMMON_CFG.queue_reset, 2) === 0) {
        this.#notifyOff.delete(index);
        this.#queueVector.delete(index);
        return;
      }
    }
    throw new PciDiscoveryError(`queue ${index} reset did not complete`);
  }

  /**
   * Sends an available buffer notification for queue `index` (spec 4.1.5.2): the 16-bit
   * index (or queue_notif_config_data with VIRTIO_F_NOTIF_CONFIG_DATA), or with
   * VIRTIO_F_NOTIFICATION_DATA the 32-bit value carrying `next` (split: next_off = the
   * available index's 15 low bits, next_wrap = its bit 15; packed: offset and wrap counter).
   * @throws RangeError when the queue was not set up.
   */
  notify(index: number, next: { readonly off: number; readonly wrap: 0 | 1 } = { off: 0, wrap: 0 }): void {
    const off = this.#notifyOff.get(index);
    if (off === undefined) throw new RangeError(`queue ${index} is not set up`);
    let vq = index;
    if (hasFeature(this.#features, VIRTIO_F_NOTIF_CONFIG_DATA)) {
      this.#select(index);
      vq = this.#common(COMMON_CFG.queue_notif_config_data, 2);
    }
    const { bar, offset } = this.caps.notify;
    if (hasFeature(this.#features, VIRTIO_F_NOTIFICATION_DATA)) {
      this.#io.barWrite(bar, offset + off, 4, encodeNotificationData({ vqIndex: vq, nextOff: next.off, nextWrap: next.wrap }));
    } else {
      this.#io.barWrite(bar, offset + off, 2, vq);
    }
  }

  // ------------------------------------------------------------ device-specific configuration

  /** config_generation. */
  get configGeneration(): number {
    return this.#common(COMMON_CFG.config_generation, 1);
  }

  /** Size in bytes of the device-specific configuration the driver maps (at most 4 KiB). */
  get configSize(): number {
    return Math.min(this.caps.device?.length ?? 0, MAP_LIMIT);
  }

  /** Reads `width` bytes of the device-specific configuration. @throws RangeError outside it */
  readConfig(offset: number, width: 1 | 2 | 4): number {
    const d = this.#deviceCfg(offset, width);
    return this.#io.barRead(d.bar, d.offset + offset, width);
  }

  /** Writes `width` bytes of the device-specific configuration. @throws RangeError outside it */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    const d = this.#deviceCfg(offset, width);
    this.#io.barWrite(d.bar, d.offset + offset, width, value);
  }

  // ------------------------------------------------------------ interrupts

  /** Number of MSI-X vectors the device has (Table Size + 1), 0 without MSI-X. */
  get msixVectors(): number {
    return this.caps.msix?.vectors ?? 0;
  }

  /**
   * Enables MSI-X: masks the function, programs every table entry with `message(vector)`
   * and unmasks it, then clears the function mask.
   * @throws PciDiscoveryError without an MSI-X capability.
   */
  enableMsix(message: (vector: number) => MsiMessage): void {
    const m = this.caps.msix;
    if (!m) throw new PciDiscoveryError('the device has no MSI-X capability');
    const flags = m.capOffset + PCI_MSIX.flags;
    this.#io.configWrite(flags, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    for (let v = 0; v < m.vectors; v++) {
      const e = m.tableOffset + v * PCI_MSIX_ENTRY_SIZE;
      const msg = message(v);
      this.#io.barWrite(m.tableBar, e + PCI_MSIX_ENTRY_LOWER_ADDR, 4, msg.addressLo);
      this.#io.barWrite(m.tableBar, e + PCI_MSIX_ENTRY_UPPER_ADDR, 4, msg.addressHi);
      this.#io.barWrite(m.tableBar, e + PCI_MSIX_ENTRY_DATA, 4, msg.data);
      this.#io.barWrite(m.tableBar, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
    }
    this.#io.configWrite(flags, 2, PCI_MSIX_FLAGS_ENABLE);
    this.#msixOn = true;
  }

  /** Masks (true) or unmasks one MSI-X vector in the table. @throws RangeError outside the table */
  maskVector(vector: number, masked: boolean): void {
    const m = this.caps.msix;
    if (!m || vector < 0 || vector >= m.vectors) throw new RangeError(`no MSI-X vector ${vector}`);
    const e = m.tableOffset + vector * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;
    this.#io.barWrite(m.tableBar, e, 4, masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
  }

  /**
   * Maps configuration change notifications to `vector` (VIRTIO_MSI_NO_VECTOR unmaps).
   * @returns whether the device accepted it (read back equal).
   * @throws RangeError for a vector outside the MSI-X table
   */
  setConfigVector(vector: number): boolean {
    const ok = this.#mapVector(COMMON_CFG.config_msix_vector, vector);
    this.#configVector = ok ? vector : VIRTIO_MSI_NO_VECTOR;
    return ok;
  }

  /**
   * What MSI-X vector `vector` stands for: the configuration (when it is config_msix_vector)
   * and the queues mapped to it. One vector may stand for both.
   */
  msixCause(vector: number): InterruptCause {
    const queues: number[] = [];
    for (const [q, v] of this.#queueVector) if (v === vector) queues.push(q);
    return { configChanged: vector === this.#configVector, queues };
  }

  /**
   * INT#x handler (MSI-X disabled): reads the ISR status, which clears it, and reports a
   * configuration change (bit 1) and/or every set-up queue (bit 0). Both may be set at once.
   */
  intxCause(): InterruptCause {
    const isr = this.#io.barRead(this.caps.isr.bar, this.caps.isr.offset, 1);
    return {
      configChanged: (isr & VIRTIO_PCI_ISR_CONFIG) !== 0,
      queues: isr & VIRTIO_PCI_ISR_QUEUE ? [...this.#notifyOff.keys()] : [],
    };
  }

  /** Whether MSI-X was enabled by {@link enableMsix}. */
  get msixEnabled(): boolean {
    return this.#msixOn;
  }

  // ------------------------------------------------------------ internals

  #select(index: number): void {
    this.#setCommon(COMMON_CFG.queue_select, 2, index);
  }

  #common(field: number, width: 1 | 2 | 4): number {
    const c = this.caps.common;
    return this.#io.barRead(c.bar, c.offset + field, width);
  }

  #setCommon(field: number, width: 1 | 2 | 4, value: number): void {
    const c = this.caps.common;
    this.#io.barWrite(c.bar, c.offset + field, width, value);
  }

  /** A 64-bit field as two 32-bit writes, low half first. */
  #set64(field: number, value: number): void {
    this.#setCommon(field, 4, value % 2 ** 32);
    this.#setCommon(field + 4, 4, Math.floor(value / 2 ** 32));
  }

  /** Writes a vector field and verifies it by reading it back (spec 4.1.5.1.2.2). */
  #mapVector(field: number, vector: number): boolean {
    if (vector !== VIRTIO_MSI_NO_VECTOR && (!Number.isInteger(vector) || vector < 0 || vector >= this.msixVectors)) {
      throw new RangeError(`MSI-X vector ${vector} outside the table of ${this.msixVectors}`);
    }
    this.#setCommon(field, 2, vector);
    return this.#common(field, 2) === vector;
  }

  #deviceCfg(offset: number, width: number): FoundStructure {
    const d = this.caps.device;
    if (!d || !Number.isInteger(offset) || offset < 0 || offset + width > this.configSize) {
      throw new RangeError(`device configuration access at ${offset}+${width} outside ${this.configSize} bytes`);
    }
    return d;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}
