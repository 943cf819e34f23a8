/**
 * PciDriverTransport: the driver side of VIRTIO over PCI (spec 4.1). It matches the function's
 * IDs, walks its capabilities, and then speaks the common configuration structure: status,
 * feature negotiation, queue set-up, MSI-X vector mapping, notifications, device-specific
 * configuration and INT#x/ISR handling. Every access has the width of its field (spec 4.1.3.1:
 * 64-bit fields as two 32-bit halves) and stays inside the structure the device declared.
 */
import {
  VIRTIO_F_ADMIN_VQ,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_NOTIF_CONFIG_DATA,
  VIRTIO_F_RING_PACKED,
  FEATURE_WORDS,
  hasFeature,
  type DriverTransport,
  type InterruptCauses,
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
  /**
   * MSI-X vector for the queue's used buffer notifications. Default: after {@link
   * PciDriverTransport.enableMsix}, the transport's own choice (see there); otherwise
   * VIRTIO_MSI_NO_VECTOR.
   */
  readonly vector?: number;
}

/** An MSI-X message the driver programs into a table entry. */
export interface MsiMessage {
  readonly addressLo: number;
  readonly addressHi: number;
  readonly data: number;
}

/** Options of {@link PciDriverTransport}. */
export interface PciDriverOptions {
  /**
   * How many times to read queue_reset after writing 1 before giving up (spec 4.1.4.3.2: the
   * reset is complete only once it reads 0). Default 1000.
   */
  readonly queueResetPolls?: number;
}

/** The part of the common configuration a driver relies on: everything up to queue_notif_config_data. */
const COMMON_CFG_MIN = COMMON_CFG.queue_notif_config_data + 2;
/** The driver maps at most this much of a structure (spec 4.1.4.1 note: 4 KiB is enough for current devices). */
const MAP_LIMIT = 4096;

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

export class PciDriverTransport implements DriverTransport {
  readonly kind = 'pci' as const;
  /** The Virtio Device ID matched from the PCI Device ID. */
  readonly deviceId: number;
  readonly caps: VirtioPciCapabilities;
  readonly #io: PciFunctionAccess;
  readonly #queueResetPolls: number;
  #features = 0n;
  /** Per queue: the Queue Notify offset in the notify structure, and the vector, once set up. */
  readonly #notifyOff = new Map<number, number>();
  readonly #queueVector = new Map<number, number>();
  /** The vector config_msix_vector maps to, once mapped since the last reset. */
  #configVector = VIRTIO_MSI_NO_VECTOR;
  #configMapped = false;
  #msixOn = false;

  /**
   * @throws PciDiscoveryError when the function is not a virtio 1.x device: wrong IDs, missing
   * capabilities (a legacy-only device), or structures too small to operate.
   */
  constructor(io: PciFunctionAccess, opts: PciDriverOptions = {}) {
    this.#io = io;
    this.#queueResetPolls = opts.queueResetPolls ?? 1000;
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

  /** Reads device_status. */
  getStatus(): number {
    return this.#common(COMMON_CFG.device_status, 1);
  }

  /**
   * Writes device_status; 0 resets the device (the caller then waits for getStatus() to read
   * 0 before reinitializing, as core's resetDevice does). With MSI-X enabled, the first write
   * after a reset maps configuration changes to vector 0 again (a reset unmaps every event).
   */
  setStatus(value: number): void {
    const v = value & 0xff;
    if (v === 0) {
      this.#features = 0n;
      this.#notifyOff.clear();
      this.#queueVector.clear();
      this.#configVector = VIRTIO_MSI_NO_VECTOR;
      this.#configMapped = false;
    } else if (this.#msixOn && !this.#configMapped) {
      this.setConfigVector(0);
    }
    this.#setCommon(COMMON_CFG.device_status, 1, v);
  }

  // ------------------------------------------------------------ features

  /** The features the device offers (all 128 bits, 32 at a time). */
  readDeviceFeatures(): bigint {
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
   * vector (verified by reading it back), then queue_enable = 1. Accepts a QueueConfig, so it
   * serves core's initializeDevice as DriverTransport.setupQueue.
   * @returns false when the device refused the vector (it read back VIRTIO_MSI_NO_VECTOR); the
   *   queue is then configured but not enabled, so the caller may retry with another vector.
   * @throws RangeError for an index beyond num_queues that is not an administration queue
   *   (VIRTIO_F_ADMIN_VQ: admin_queue_index .. + admin_queue_num - 1), a size the negotiated
   *   layout does not allow or above the maximum, or a vector outside the MSI-X table; PciDiscoveryError when the device's notify offset lies
   *   outside its notification structure.
   */
  setupQueue(index: number, q: PciQueueSetup): boolean {
    if (!this.#queueIndexAllowed(index)) {
      throw new RangeError(`queue ${index} is neither a regular queue nor one of the device's administration queues`);
    }
    const max = this.queueMaxSize(index);
    const packed = hasFeature(this.#features, VIRTIO_F_RING_PACKED);
    if (q.size < 1 || q.size > max || (!packed && !isPow2(q.size))) {
      throw new RangeError(`queue ${index}: size ${q.size} not allowed (max ${max}, ${packed ? 'packed' : 'split'})`);
    }
    if (q.size !== max) this.#setCommon(COMMON_CFG.queue_size, 2, q.size);
    this.#set64(COMMON_CFG.queue_desc, q.descTable);
    this.#set64(COMMON_CFG.queue_driver, q.driverArea);
    this.#set64(COMMON_CFG.queue_device, q.deviceArea);
    const vector = q.vector ?? this.#defaultVector(index);
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
   * @returns false when the structure has no queue_reset or it never read back 0.
   */
  resetQueue(index: number): boolean {
    if (this.caps.common.length < COMMON_CFG.queue_reset + 2) return false;
    this.#select(index);
    this.#setCommon(COMMON_CFG.queue_reset, 2, 1);
    for (let i = 0; i < this.#queueResetPolls; i++) {
      if (this.#common(COMMON_CFG.queue_reset, 2) === 0) {
        this.#notifyOff.delete(index);
        this.#queueVector.delete(index);
        return true;
      }
    }
    return false;
  }

  /**
   * Sends an available buffer notification for queue `index` (spec 4.1.5.2): the 16-bit
   * virtqueue index (or queue_notif_config_data with VIRTIO_F_NOTIF_CONFIG_DATA); with
   * VIRTIO_F_NOTIFICATION_DATA the 32-bit value whose next_off/next_wrap come from `data`
   * (its high 16 bits; split: the available index, packed: offset and wrap counter) and whose
   * low 16 bits are that same index or queue_notif_config_data.
   * @throws RangeError when the queue was not set up.
   */
  notify(index: number, data = 0): void {
    const off = this.#notifyOff.get(index);
    if (off === undefined) throw new RangeError(`queue ${index} is not set up`);
    let vq = index;
    if (hasFeature(this.#features, VIRTIO_F_NOTIF_CONFIG_DATA)) {
      this.#select(index);
      vq = this.#common(COMMON_CFG.queue_notif_config_data, 2);
    }
    const { bar, offset } = this.caps.notify;
    if (hasFeature(this.#features, VIRTIO_F_NOTIFICATION_DATA)) {
      this.#io.barWrite(bar, offset + off, 4, ((data & 0xffff0000) | vq) >>> 0);
    } else {
      this.#io.barWrite(bar, offset + off, 2, vq);
    }
  }

  // ------------------------------------------------------------ device-specific configuration

  /** Reads config_generation. */
  configGeneration(): number {
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
   * and unmasks it, then clears the function mask. From then on, taking the Table Size as a
   * hint: configuration changes use vector 0 and queue i vector 1 + i when the table has a
   * vector per queue, otherwise every queue shares vector 1 (vector 0 with a one-entry table).
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
    if (this.getStatus() !== 0) this.setConfigVector(0);
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
    this.#configMapped = true;
    return ok;
  }

  /** The queues whose used buffer notifications arrive on MSI-X vector `vector`. */
  queuesOnVector(vector: number): number[] {
    const queues: number[] = [];
    for (const [q, v] of this.#queueVector) if (v === vector) queues.push(q);
    return queues;
  }

  /**
   * After an interrupt: what caused it. With INT#x (MSI-X disabled) this reads the ISR status,
   * which acknowledges it: bit 0 used buffers, bit 1 a configuration change, possibly both.
   * With MSI-X the ISR is not touched: `vector` (the one that fired) tells whether it is the
   * configuration vector and whether queues use it; without `vector` both causes are reported.
   */
  takeInterrupt(vector?: number): InterruptCauses {
    if (this.#msixOn) {
      if (vector === undefined) return { usedBuffer: true, configChange: true };
      return { usedBuffer: this.queuesOnVector(vector).length > 0, configChange: vector === this.#configVector };
    }
    const isr = this.#io.barRead(this.caps.isr.bar, this.caps.isr.offset, 1);
    return { usedBuffer: (isr & VIRTIO_PCI_ISR_QUEUE) !== 0, configChange: (isr & VIRTIO_PCI_ISR_CONFIG) !== 0 };
  }

  /** Whether MSI-X was enabled by {@link enableMsix}. */
  get msixEnabled(): boolean {
    return this.#msixOn;
  }

  // ------------------------------------------------------------ internals

  /** Regular queues, and with VIRTIO_F_ADMIN_VQ the administration queues the device reports. */
  #queueIndexAllowed(index: number): boolean {
    if (!Number.isInteger(index) || index < 0) return false;
    if (index < this.numQueues) return true;
    if (!hasFeature(this.#features, VIRTIO_F_ADMIN_VQ) || this.caps.common.length < COMMON_CFG.admin_queue_num + 2) return false;
    const first = this.#common(COMMON_CFG.admin_queue_index, 2);
    return index >= first && index < first + this.#common(COMMON_CFG.admin_queue_num, 2);
  }

  /** The vector queue `index` gets when the caller names none. */
  #defaultVector(index: number): number {
    const n = this.msixVectors;
    if (!this.#msixOn || n === 0) return VIRTIO_MSI_NO_VECTOR;
    if (n === 1) return 0;
    return n > this.numQueues ? 1 + index : 1;
  }

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
