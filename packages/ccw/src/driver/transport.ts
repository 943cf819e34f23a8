/**
 * CcwDriverTransport: the driver side of virtio-ccw (spec 4.3). It identifies the proxy device
 * (SENSE ID), negotiates the revision, and then speaks the virtio channel commands: status,
 * features, configuration space, queue set-up, indicators; notifications go out as
 * DIAGNOSE 0x500 through the channel subsystem.
 */
import {
  VIRTIO_CONFIG_S_DRIVER_OK,
  type DriverTransport,
  type InterruptCauses,
  type TransportKind,
} from '@virtio/core';
import { legacySplitLayout, type GuestAllocator, type GuestMemory, type QueueConfig } from '@virtio/ring';
import type { ChannelSubsystemAccess } from '../device/channel-subsystem.js';
import {
  CCW_CMD_READ_CONF,
  CCW_CMD_READ_FEAT,
  CCW_CMD_READ_STATUS,
  CCW_CMD_READ_VQ_CONF,
  CCW_CMD_SENSE_ID,
  CCW_CMD_SET_CONF_IND,
  CCW_CMD_SET_IND,
  CCW_CMD_SET_IND_ADAPTER,
  CCW_CMD_SET_VIRTIO_REV,
  CCW_CMD_SET_VQ,
  CCW_CMD_VDEV_RESET,
  CCW_CMD_WRITE_CONF,
  CCW_CMD_WRITE_FEAT,
  CCW_CMD_WRITE_STATUS,
  KVM_VIRTIO_CCW_RING_ALIGN,
  VIRTIO_CCW_CU_TYPE,
  VIRTIO_CCW_REV_2,
  VIRTIO_CCW_REV_LEGACY,
  VIRTIO_CCW_REV_MAX,
} from '../protocol/constants.js';
import {
  INDICATOR_ADDRESS_SIZE,
  SENSE_ID_SIZE,
  STATUS_SIZE,
  VIRTIO_FEATURE_DESC_SIZE,
  VIRTIO_REV_INFO_SIZE,
  VIRTIO_THININT_AREA_SIZE,
  VQ_CONFIG_BLOCK_SIZE,
  VQ_INFO_BLOCK_LEGACY_SIZE,
  VQ_INFO_BLOCK_SIZE,
  decodeSenseId,
  encodeFeatureDesc,
  encodeRevInfo,
  encodeThinintArea,
  encodeVqConfigBlock,
  encodeVqInfoBlock,
  encodeVqInfoBlockLegacy,
} from '../protocol/structures.js';
import { ChannelIo, DRIVER_DATA_SIZE } from './channel-io.js';
import { CcwDriverError } from './errors.js';
import { DriverIndicators } from './indicators.js';

export interface CcwDriverOptions {
  /** The channel subsystem the subchannel is reached through. */
  readonly css: ChannelSubsystemAccess;
  /** Subchannel ID of the proxy device. */
  readonly schid: number;
  /** Guest memory, where channel programs, their data and the indicators are placed. */
  readonly memory: GuestMemory;
  /** Allocates the driver's channel program area and indicators (below 2 GiB). */
  readonly allocator: GuestAllocator;
  /** Highest revision to try (default and at most 2); lower ones are tried on command reject ([ccw.drv.3]). */
  readonly maxRevision?: number;
  /**
   * A transitional driver: tries revision 0 last and, when the device rejects
   * CCW_CMD_SET_VIRTIO_REV altogether (a legacy device), drives it as revision 0. Default false.
   */
  readonly transitional?: boolean;
  /**
   * Queue indicators: 'adapter' (two-stage, the default; falls back to classic when the device
   * rejects CCW_CMD_SET_IND_ADAPTER) or 'classic'.
   */
  readonly indicators?: 'adapter' | 'classic';
  /** Interruption subclass for adapter interrupts (0-7, default 3). */
  readonly isc?: number;
}

/**
 * The driver side of one virtio-ccw device. Construct with {@link CcwDriverTransport.open};
 * then run core's initializeDevice over it. Call {@link takeInterrupt} (through core's
 * DriverDevice.handleInterrupt) on the subchannel's I/O interrupts and on adapter interrupts.
 */
export class CcwDriverTransport implements DriverTransport {
  readonly kind: TransportKind = 'ccw';
  /** The virtio device ID (SENSE ID control unit model). */
  readonly deviceId: number;
  readonly #io: ChannelIo;
  readonly #css: ChannelSubsystemAccess;
  readonly #schid: number;
  readonly #indicators: DriverIndicators;
  readonly #wantAdapter: boolean;
  readonly #isc: number;
  #revision = VIRTIO_CCW_REV_LEGACY;
  /** Last status the device took: what READ_STATUS would say when the revision lacks it. */
  #status = 0;
  /** Indicators registered since the last reset; 'adapter' or 'classic' once registered. */
  #registered: 'adapter' | 'classic' | undefined;
  readonly #enabled = new Set<number>();
  /** Host cookies from the last notification of each queue ([ccw.drv.10]). */
  readonly #cookies = new Map<number, bigint>();
  /** The configuration prefix read last, its longest length so far, and the generation the driver keeps (spec 4.3.2.5). */
  #configSnapshot: Uint8Array | undefined;
  #configSeen = 0;
  #generation = 0;
  #lastQueueIndicators = 0n;

  private constructor(opts: CcwDriverOptions, io: ChannelIo, deviceId: number) {
    this.#css = opts.css;
    this.#schid = opts.schid;
    this.deviceId = deviceId;
    this.#io = io;
    this.#indicators = new DriverIndicators(opts.memory, opts.allocator);
    this.#wantAdapter = (opts.indicators ?? 'adapter') === 'adapter';
    this.#isc = opts.isc ?? 3;
  }

  /**
   * Enables the subchannel, identifies the device and negotiates the revision.
   * @throws CcwDriverError 'not-virtio-ccw' (subchannel missing or not a virtio-ccw proxy),
   *   'no-revision', 'command-failed'; allocator errors
   */
  static open(opts: CcwDriverOptions): CcwDriverTransport {
    if (!opts.css.enableSubchannel(opts.schid)) throw new CcwDriverError('not-virtio-ccw', `no subchannel 0x${opts.schid.toString(16)}`);
    const io = new ChannelIo(opts.memory, opts.allocator, opts.css, opts.schid);
    io.bytes.fill(0, 0, SENSE_ID_SIZE);
    io.must(CCW_CMD_SENSE_ID, SENSE_ID_SIZE, 'SENSE ID');
    // [ccw.drv.1] the control unit type identifies virtio-ccw; device type and model are ignored.
    const id = decodeSenseId(io.view);
    if (id.cuType !== VIRTIO_CCW_CU_TYPE) {
      throw new CcwDriverError('not-virtio-ccw', `control unit type 0x${id.cuType.toString(16)}`);
    }
    const driver = new CcwDriverTransport(opts, io, id.cuModel);
    driver.#revision = driver.#negotiateRevision(opts.maxRevision ?? VIRTIO_CCW_REV_MAX, opts.transitional ?? false);
    return driver;
  }

  /** The negotiated virtio-ccw revision. */
  get revision(): number {
    return this.#revision;
  }

  /** Which queue indicators are registered with the device, if any (set up before the first queue). */
  get indicatorMode(): 'adapter' | 'classic' | undefined {
    return this.#registered;
  }

  /**
   * [ccw.drv.3] highest revision first, lower ones on command reject; [ccw.drv.4] before any
   * other virtio command; [ccw.drv.5] only until one succeeds.
   */
  #negotiateRevision(max: number, transitional: boolean): number {
    const lowest = transitional ? VIRTIO_CCW_REV_LEGACY : 1;
    for (let rev = Math.min(max, VIRTIO_CCW_REV_MAX); rev >= lowest; rev--) {
      encodeRevInfo(this.#io.view, { revision: rev, length: 0 });
      const result = this.#io.run(CCW_CMD_SET_VIRTIO_REV, VIRTIO_REV_INFO_SIZE);
      if (result.status === 'ok') return rev;
      if (result.status !== 'unit-check') throw new CcwDriverError('command-failed', `SET_VIRTIO_REV: ${result.status}`, result);
    }
    // A legacy device rejects SET_VIRTIO_REV: only a transitional driver may go on, as revision 0.
    if (transitional) return VIRTIO_CCW_REV_LEGACY;
    throw new CcwDriverError('no-revision', `the device rejected revisions ${lowest}..${max}`);
  }

  // ---- status ----

  /**
   * Device status: READ_STATUS from revision 2 on; before that ([ccw.drv.8]: no READ_STATUS)
   * the last status the device took.
   */
  getStatus(): number {
    if (this.#revision < VIRTIO_CCW_REV_2) return this.#status;
    this.#io.must(CCW_CMD_READ_STATUS, STATUS_SIZE, 'READ_STATUS');
    return this.#io.bytes[0];
  }

  /**
   * Writes device status; 0 resets the device with CCW_CMD_VDEV_RESET. A command reject means
   * the device did not take the status: the previous one stays ([ccw.drv.6]).
   */
  setStatus(status: number): void {
    if ((status & 0xff) === 0) {
      this.#io.must(CCW_CMD_VDEV_RESET, 0, 'VDEV_RESET');
      this.#status = 0;
      this.#registered = undefined;
      this.#enabled.clear();
      this.#cookies.clear();
      return;
    }
    if (status & VIRTIO_CONFIG_S_DRIVER_OK) this.#registerIndicators();
    this.#io.bytes[0] = status;
    const result = this.#io.run(CCW_CMD_WRITE_STATUS, STATUS_SIZE);
    if (result.status === 'ok') this.#status = status & 0xff;
    else if (result.status !== 'unit-check') throw new CcwDriverError('command-failed', `WRITE_STATUS: ${result.status}`, result);
  }

  // ---- features ----

  readDeviceFeatures(): bigint {
    let features = 0n;
    for (let index = 0; index < this.#featureWords(); index++) {
      encodeFeatureDesc(this.#io.view, { features: 0, index });
      this.#io.must(CCW_CMD_READ_FEAT, VIRTIO_FEATURE_DESC_SIZE, 'READ_FEAT');
      features |= BigInt(this.#io.view.getUint32(0, true)) << BigInt(32 * index);
    }
    return features;
  }

  writeDriverFeatures(features: bigint): void {
    for (let index = 0; index < this.#featureWords(); index++) {
      const word = Number((features >> BigInt(32 * index)) & 0xffff_ffffn);
      encodeFeatureDesc(this.#io.view, { features: word, index });
      this.#io.must(CCW_CMD_WRITE_FEAT, VIRTIO_FEATURE_DESC_SIZE, 'WRITE_FEAT');
    }
  }

  /** Revision 0 drives a legacy device: 32 feature bits. Otherwise 128. */
  #featureWords(): number {
    return this.#revision === VIRTIO_CCW_REV_LEGACY ? 1 : 4;
  }

  // ---- queues ----

  queueMaxSize(index: number): number {
    encodeVqConfigBlock(this.#io.view, { index, maxQueueSize: 0 });
    this.#io.must(CCW_CMD_READ_VQ_CONF, VQ_CONFIG_BLOCK_SIZE, 'READ_VQ_CONF');
    return this.#io.view.getUint16(2);
  }

  /**
   * CCW_CMD_SET_VQ with `config`'s addresses. Revision 0 sends vq_info_block_legacy, which
   * requires the legacy layout with 4096-byte alignment (see legacyRingAllocator).
   * Indicators are registered with the device before the first queue.
   * @throws CcwDriverError 'legacy-layout'; 'command-failed' when setting up indicators fails
   */
  setupQueue(index: number, config: QueueConfig): void {
    this.#registerIndicators();
    let result;
    if (this.#revision === VIRTIO_CCW_REV_LEGACY) {
      const layout = legacySplitLayout(config.size, KVM_VIRTIO_CCW_RING_ALIGN);
      if (config.packed || config.driverArea !== config.descTable + layout.availOffset || config.deviceArea !== config.descTable + layout.usedOffset) {
        throw new CcwDriverError('legacy-layout', `queue ${index} is not one legacy block aligned to ${KVM_VIRTIO_CCW_RING_ALIGN}`);
      }
      encodeVqInfoBlockLegacy(this.#io.view, { queue: BigInt(config.descTable), align: KVM_VIRTIO_CCW_RING_ALIGN, index, size: config.size });
      result = this.#io.run(CCW_CMD_SET_VQ, VQ_INFO_BLOCK_LEGACY_SIZE);
    } else {
      encodeVqInfoBlock(this.#io.view, {
        desc: BigInt(config.descTable),
        res0: 0,
        index,
        size: config.size,
        driver: BigInt(config.driverArea),
        device: BigInt(config.deviceArea),
      });
      result = this.#io.run(CCW_CMD_SET_VQ, VQ_INFO_BLOCK_SIZE);
    }
    if (result.status === 'ok') this.#enabled.add(index);
  }

  /** CCW has no read-back of a queue: enabled once SET_VQ succeeded, until reset. */
  queueEnabled(index: number): boolean {
    return this.#enabled.has(index);
  }

  /** VIRTIO_F_RING_RESET is reserved on CCW (spec 4.3.4): never completes. */
  resetQueue(_index: number): boolean {
    return false;
  }

  /**
   * DIAGNOSE 0x500 subcode 3 with the host cookie of this queue's previous notification
   * ([ccw.drv.10]); `data` is the VIRTIO_F_NOTIFICATION_DATA value when negotiated.
   */
  notify(index: number, data?: number): void {
    const cookie = this.#css.notify(this.#schid, data ?? index, this.#cookies.get(index) ?? 0n);
    if (cookie >= 0n) this.#cookies.set(index, cookie);
  }

  // ---- configuration space ----

  /** READ_CONF of the first `offset + width` bytes (the device transmits from offset 0). */
  readConfig(offset: number, width: 1 | 2 | 4): number {
    this.#readConfigPrefix(offset + width);
    const v = this.#io.view;
    return width === 1 ? v.getUint8(offset) : width === 2 ? v.getUint16(offset, true) : v.getUint32(offset, true);
  }

  /** READ_CONF of the first `offset + width` bytes, the field changed, WRITE_CONF of them back. */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    const len = offset + width;
    this.#readConfigPrefix(len);
    const v = this.#io.view;
    if (width === 1) v.setUint8(offset, value);
    else if (width === 2) v.setUint16(offset, value, true);
    else v.setUint32(offset, value, true);
    this.#io.must(CCW_CMD_WRITE_CONF, len, 'WRITE_CONF');
  }

  /**
   * CCW has no configuration generation: the driver keeps one, bumped whenever the part of
   * the configuration space it has read so far differs from the copy it read last
   * (spec 4.3.2.5: the device transmits the space, the driver compares).
   */
  configGeneration(): number {
    if (this.#configSeen === 0) return this.#generation;
    this.#readConfigPrefix(this.#configSeen);
    const now = this.#io.bytes.slice(0, this.#configSeen);
    const last = this.#configSnapshot;
    if (last?.some((b, i) => i < now.length && b !== now[i])) this.#generation = (this.#generation + 1) >>> 0;
    this.#configSnapshot = now;
    return this.#generation;
  }

  /** READ_CONF of the first `len` bytes into the data area. @throws RangeError for a length beyond the data area */
  #readConfigPrefix(len: number): void {
    if (!Number.isInteger(len) || len < 1 || len > DRIVER_DATA_SIZE) throw new RangeError(`configuration access up to ${len} bytes`);
    this.#io.must(CCW_CMD_READ_CONF, len, 'READ_CONF');
    this.#configSeen = Math.max(this.#configSeen, len);
  }

  // ---- interrupts ----

  /**
   * After an I/O or adapter interrupt: TEST SUBCHANNEL, then takes the configuration
   * indicator and the queue indicators (adapter: summary cleared first, [ccw.drv.9]).
   * With revision 2 a configuration change is followed by READ_STATUS in core's
   * DriverDevice.handleInterrupt ([ccw.drv.7]).
   */
  takeInterrupt(): InterruptCauses {
    this.#css.testSubchannel(this.#schid);
    const configChange = this.#indicators.takeConfig();
    const queues = this.#registered === 'adapter' ? this.#indicators.takeAdapter() : this.#indicators.takeQueues();
    this.#lastQueueIndicators = queues;
    return { usedBuffer: queues !== 0n, configChange };
  }

  /** The queue indicators the last {@link takeInterrupt} took: bit n = queue n had used buffers. */
  get lastQueueIndicators(): bigint {
    return this.#lastQueueIndicators;
  }

  /** SET_IND_ADAPTER (or SET_IND) and SET_CONF_IND, once per reset. */
  #registerIndicators(): void {
    if (this.#registered) return;
    const ind = this.#indicators;
    ind.clear();
    let mode: 'adapter' | 'classic' = 'classic';
    if (this.#wantAdapter) {
      encodeThinintArea(this.#io.view, {
        summaryIndicator: BigInt(ind.summaryAddr),
        indicator: BigInt(ind.adapterAddr),
        bitNr: 0n,
        isc: this.#isc,
      });
      const result = this.#io.run(CCW_CMD_SET_IND_ADAPTER, VIRTIO_THININT_AREA_SIZE);
      if (result.status === 'ok') mode = 'adapter';
      else if (result.status !== 'unit-check') throw new CcwDriverError('command-failed', `SET_IND_ADAPTER: ${result.status}`, result);
    }
    if (mode === 'classic') {
      this.#io.view.setBigUint64(0, BigInt(ind.queueAddr));
      this.#io.must(CCW_CMD_SET_IND, INDICATOR_ADDRESS_SIZE, 'SET_IND');
    }
    this.#io.view.setBigUint64(0, BigInt(ind.configAddr));
    this.#io.must(CCW_CMD_SET_CONF_IND, INDICATOR_ADDRESS_SIZE, 'SET_CONF_IND');
    this.#registered = mode;
  }
}
