/**
 * The device side of virtio-ccw (spec 4.3): a virtio device behind a virtual subchannel.
 * It executes the driver's channel programs, keeps the host->guest indicators, and takes the
 * driver's DIAGNOSE 0x500 notifications. Status, features, configuration space and queues
 * live in core's VirtioTransportState, shared with the other transports.
 */
import { legacySplitLayout, type GuestMemory, type LegacySplitLayout } from '@virtio/ring';
import { VirtioTransportState, type InterruptSink, type VirtioDevice } from '@virtio/core';
import type { Ccw } from '../channel/ccw.js';
import { runCcwList, runChannelProgram, type CommandExecutor } from '../channel/program.js';
import { NOT_OPERATIONAL, programResult, type ChannelProgramResult, type CommandStatus } from '../channel/result.js';
import { checkLength, checkPrefixLength, fetchData, storeData } from '../channel/transfer.js';
import {
  BASIC_SENSE_SIZE,
  INDICATOR_ADDRESS_SIZE,
  SENSE_ID_SIZE,
  STATUS_SIZE,
  VIRTIO_FEATURE_DESC_SIZE,
  VIRTIO_REV_INFO_SIZE,
  VIRTIO_THININT_AREA_SIZE,
  VQ_CONFIG_BLOCK_SIZE,
  VQ_INFO_BLOCK_LEGACY_SIZE,
  VQ_INFO_BLOCK_SIZE,
  decodeFeatureDesc,
  decodeRevInfo,
  decodeThinintArea,
  decodeVqInfoBlock,
  decodeVqInfoBlockLegacy,
  encodeSenseId,
} from '../protocol/structures.js';
import {
  CCW_CMD_BASIC_SENSE,
  CCW_CMD_NOOP,
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
  CCW_SUPPORTED_FLAGS,
  SENSE_CMD_REJECT,
  VIRTIO_CCW_CU_TYPE,
  VIRTIO_CCW_REV_1,
  VIRTIO_CCW_REV_LEGACY,
  VIRTIO_CCW_REV_MAX,
} from '../protocol/constants.js';
import { AdapterIndicators, ClassicIndicators } from './indicators.js';
import { Notifier, type CcwInterruptHandlers } from './notifier.js';
import { commandInRevision, isVirtioCommand } from './revision.js';

export interface CcwTransportOptions {
  /** Guest memory: channel programs, their data, indicators and rings live here. */
  readonly memory: GuestMemory;
  readonly interrupts: CcwInterruptHandlers;
  /**
   * A transitional device: it accepts revision 0 and legacy drivers (which issue virtio
   * commands without CCW_CMD_SET_VIRTIO_REV). Default false: a non-transitional device.
   */
  readonly transitional?: boolean;
}

/** The sense byte 0 values a unit check leaves for BASIC SENSE. */
type Sense = 0 | typeof SENSE_CMD_REJECT;

/**
 * A virtio-ccw proxy device: control unit type 0x3832, control unit model = the device ID.
 *
 * Channel programs run synchronously: {@link startSubchannel} returns how the program ended
 * (the subchannel status the guest would read). Guest mistakes never throw: they end the
 * program with a unit check (command reject), incorrect length or program check.
 *
 * Reset: CCW_CMD_VDEV_RESET concludes successfully only once the reset is complete and the
 * status is 0 ([ccw.dev.15]). When the device's reset waits for in-flight work (its reset()
 * returned a promise), a synchronous channel program cannot stay open until then, so the
 * command ends with unit status busy instead, and every program started while the reset is
 * under way ends busy without executing anything. The driver starts VDEV_RESET again (as
 * Linux's ccw_io_helper retries while the device is busy); once the reset completed it
 * concludes successfully. `state.whenResetComplete()` resolves at that moment, for a host that
 * would rather hold the guest's START SUBCHANNEL until then.
 */
export class CcwTransport {
  /** The shared negotiation state: status, features, configuration space, queues. */
  readonly state: VirtioTransportState;
  readonly device: VirtioDevice;
  readonly #memory: GuestMemory;
  readonly #transitional: boolean;
  readonly #executor: CommandExecutor = { executeCommand: (ccw) => this.#command(ccw) };
  /** Scratch for command data; large enough for SENSE ID and the whole configuration space. */
  readonly #buf: Uint8Array;
  readonly #dv: DataView;
  readonly #notifier: Notifier;

  #enabled = false;
  #revision: number | undefined;
  #sense: Sense = 0;

  /** @throws TypeError from core when the device itself is malformed (e.g. offers a feature CCW does not support) */
  constructor(device: VirtioDevice, options: CcwTransportOptions) {
    this.device = device;
    this.#memory = options.memory;
    this.#transitional = options.transitional ?? false;
    const sink: InterruptSink = {
      usedBuffer: (queueIndex) => this.#notifier.usedBuffer(queueIndex),
      configChange: () => this.#notifier.configChange(),
    };
    this.state = new VirtioTransportState(device, {
      memory: options.memory,
      interrupt: sink,
      transport: 'ccw',
      modern: !this.#transitional,
    });
    this.#notifier = new Notifier(options.interrupts, this.state.counters);
    this.#buf = new Uint8Array(Math.max(SENSE_ID_SIZE, device.configSize));
    this.#dv = new DataView(this.#buf.buffer);
  }

  /** The revision the driver selected, or undefined while unset (spec 4.3.2.1). */
  get revision(): number | undefined {
    return this.#revision;
  }

  /** Whether the subchannel is enabled (MODIFY SUBCHANNEL). */
  get subchannelEnabled(): boolean {
    return this.#enabled;
  }

  /** MODIFY SUBCHANNEL enabling the subchannel: the revision is unset until the driver sets one ([ccw.dev.7]). */
  enableSubchannel(): void {
    this.#enabled = true;
    this.#revision = undefined;
  }

  /** MODIFY SUBCHANNEL disabling the subchannel; the revision does not persist. */
  disableSubchannel(): void {
    this.#enabled = false;
    this.#revision = undefined;
  }

  /**
   * START SUBCHANNEL: runs the channel program at guest-physical `programAddress` (the ORB's
   * channel program address) to its end. 'not-operational' while the subchannel is disabled;
   * 'busy', executing nothing, while a device reset is under way.
   */
  startSubchannel(programAddress: number): ChannelProgramResult {
    if (!this.#enabled) return NOT_OPERATIONAL;
    if (this.state.resetPending) return programResult('busy', programAddress);
    return runChannelProgram(this.#memory, programAddress, this.#executor);
  }

  /** Runs a channel program the host already fetched, as a list of CCWs (data still in guest memory). */
  execute(program: readonly Ccw[]): ChannelProgramResult {
    if (!this.#enabled) return NOT_OPERATIONAL;
    if (this.state.resetPending) return programResult('busy', 0);
    return runCcwList(program, this.#executor);
  }

  /** TEST SUBCHANNEL: whether an I/O interrupt was pending; clears it. */
  testSubchannel(): boolean {
    return this.#notifier.testSubchannel();
  }

  /**
   * Guest->host notification (DIAGNOSE 0x500 subcode 3, spec 4.3.3.2): `data` is GPR3, the
   * virtqueue index, or with VIRTIO_F_NOTIFICATION_DATA the notification value
   * (vq_index | next_off << 16 | next_wrap << 31).
   * @returns false when the queue does not exist or the subchannel is disabled (nothing is done)
   */
  notify(data: number): boolean {
    if (!this.#enabled || this.#revision === undefined) return false;
    const value = data >>> 0;
    const index = value & 0xffff;
    const withData = this.state.notificationData;
    // Without VIRTIO_F_NOTIFICATION_DATA, GPR3 holds only the queue index.
    if ((value !== index && !withData) || index >= this.device.numQueues) return false;
    this.state.notify(index, withData ? value : undefined);
    return true;
  }

  // ---- Channel commands ----

  #command(ccw: Ccw): CommandStatus {
    // Data chaining, skip, indirect addressing and suspend are not supported by this device.
    const status = (ccw.flags & ~CCW_SUPPORTED_FLAGS) !== 0 ? 'command-reject' : this.#dispatch(ccw);
    if (status === 'command-reject') this.#sense = SENSE_CMD_REJECT;
    return status;
  }

  #dispatch(ccw: Ccw): CommandStatus {
    switch (ccw.cmd) {
      case CCW_CMD_NOOP:
        return 'ok';
      case CCW_CMD_BASIC_SENSE:
        return this.#basicSense(ccw);
      case CCW_CMD_SENSE_ID:
        return this.#senseId(ccw);
      case CCW_CMD_SET_VIRTIO_REV:
        return this.#setRevision(ccw);
    }
    if (!isVirtioCommand(ccw.cmd)) return 'command-reject'; // [ccw.dev.1]
    if (this.#revision === undefined) {
      // A legacy driver does not set a revision: a transitional device continues as if it
      // selected revision 0; a non-transitional one rejects (spec 4.3.2.1.3).
      if (!this.#transitional) return 'command-reject';
      this.#revision = VIRTIO_CCW_REV_LEGACY;
    }
    if (!commandInRevision(ccw.cmd, this.#revision)) return 'command-reject'; // [ccw.dev.5]
    switch (ccw.cmd) {
      case CCW_CMD_SET_VQ:
        return this.#revision === VIRTIO_CCW_REV_LEGACY ? this.#setVqLegacy(ccw) : this.#setVq(ccw);
      case CCW_CMD_VDEV_RESET:
        return this.#reset();
      case CCW_CMD_READ_FEAT:
        return this.#readFeatures(ccw);
      case CCW_CMD_WRITE_FEAT:
        return this.#writeFeatures(ccw);
      case CCW_CMD_READ_CONF:
        return this.#readConfig(ccw);
      case CCW_CMD_WRITE_CONF:
        return this.#writeConfig(ccw);
      case CCW_CMD_WRITE_STATUS:
        return this.#writeStatus(ccw);
      case CCW_CMD_READ_STATUS:
        return this.#readStatus(ccw);
      case CCW_CMD_SET_IND:
        return this.#setIndicators(ccw, 'queue');
      case CCW_CMD_SET_CONF_IND:
        return this.#setIndicators(ccw, 'config');
      case CCW_CMD_SET_IND_ADAPTER:
        return this.#setAdapterIndicators(ccw);
      case CCW_CMD_READ_VQ_CONF:
        return this.#readVqConfig(ccw);
      default:
        return 'command-reject';
    }
  }

  /** Reads the command's `len` bytes of data into the scratch buffer, after the length check. */
  #fetch(ccw: Ccw, len: number): CommandStatus {
    const status = checkLength(ccw, len);
    return status === 'ok' ? fetchData(this.#memory, ccw.cda, this.#buf.subarray(0, len)) : status;
  }

  /** Writes the scratch buffer's first `len` bytes to the command's data area. */
  #store(ccw: Ccw, len: number): CommandStatus {
    return storeData(this.#memory, ccw.cda, this.#buf.subarray(0, len));
  }

  #basicSense(ccw: Ccw): CommandStatus {
    const status = checkPrefixLength(ccw, BASIC_SENSE_SIZE);
    if (status !== 'ok') return status;
    this.#buf.fill(0, 0, BASIC_SENSE_SIZE);
    this.#buf[0] = this.#sense;
    const result = this.#store(ccw, Math.min(ccw.count, BASIC_SENSE_SIZE));
    if (result === 'ok') this.#sense = 0;
    return result;
  }

  #senseId(ccw: Ccw): CommandStatus {
    const status = checkPrefixLength(ccw, SENSE_ID_SIZE);
    if (status !== 'ok') return status;
    this.#buf.fill(0, 0, SENSE_ID_SIZE);
    encodeSenseId(this.#dv, { cuType: VIRTIO_CCW_CU_TYPE, cuModel: this.device.deviceId & 0xff, devType: 0, devModel: 0 });
    return this.#store(ccw, Math.min(ccw.count, SENSE_ID_SIZE));
  }

  #setRevision(ccw: Ccw): CommandStatus {
    if (ccw.count < VIRTIO_REV_INFO_SIZE) return checkLength(ccw, VIRTIO_REV_INFO_SIZE);
    const fetched = fetchData(this.#memory, ccw.cda, this.#buf.subarray(0, VIRTIO_REV_INFO_SIZE));
    if (fetched !== 'ok') return fetched;
    const { revision, length } = decodeRevInfo(this.#dv);
    const lengthStatus = checkLength(ccw, VIRTIO_REV_INFO_SIZE + length);
    if (lengthStatus !== 'ok') return lengthStatus;
    if (this.#revision !== undefined) return 'command-reject'; // [ccw.dev.6]
    // [ccw.dev.4] every supported revision carries no data; revision 0 only on a transitional device.
    if (revision > VIRTIO_CCW_REV_MAX || length !== 0) return 'command-reject';
    if (revision === VIRTIO_CCW_REV_LEGACY && !this.#transitional) return 'command-reject';
    this.#revision = revision;
    return 'ok';
  }

  #setVq(ccw: Ccw): CommandStatus {
    const status = this.#fetch(ccw, VQ_INFO_BLOCK_SIZE);
    if (status !== 'ok') return status;
    // res0 is reserved and ignored ([ccw.dev.8]).
    const info = decodeVqInfoBlock(this.#dv);
    if (info.index >= this.device.numQueues) return 'command-reject';
    if (info.desc === 0n) return this.#deactivateQueue(info.index);
    return this.#configureQueue(info.index, info.size, info.desc, info.driver, info.device);
  }

  #setVqLegacy(ccw: Ccw): CommandStatus {
    const status = this.#fetch(ccw, VQ_INFO_BLOCK_LEGACY_SIZE);
    if (status !== 'ok') return status;
    const info = decodeVqInfoBlockLegacy(this.#dv);
    if (info.index >= this.device.numQueues) return 'command-reject';
    if (info.queue === 0n) return this.#deactivateQueue(info.index);
    let layout: LegacySplitLayout;
    try {
      layout = legacySplitLayout(info.size, info.align);
    } catch {
      return 'command-reject'; // a size that is not a power of two, an alignment that is not either
    }
    const q = info.queue;
    return this.#configureQueue(info.index, info.size, q, q + BigInt(layout.availOffset), q + BigInt(layout.usedOffset));
  }

  #configureQueue(index: number, size: number, desc: bigint, driver: bigint, device: bigint): CommandStatus {
    const limit = BigInt(Number.MAX_SAFE_INTEGER);
    if (desc > limit || driver > limit || device > limit) return 'command-reject';
    const queue = this.state.queue(index);
    if (!queue) return 'command-reject';
    if (queue.enabled) this.state.disableQueue(index);
    const configured =
      queue.setSize(size) &&
      queue.setAddress('desc', Number(desc)) &&
      queue.setAddress('driver', Number(driver)) &&
      queue.setAddress('device', Number(device));
    if (!configured) return 'command-reject';
    this.state.enableQueue(index);
    return queue.enabled ? 'ok' : 'command-reject';
  }

  /** SET_VQ with a zero address: the driver stops using the queue. */
  #deactivateQueue(index: number): CommandStatus {
    if (this.state.queue(index)?.enabled) this.state.disableQueue(index);
    return 'ok';
  }

  #reset(): CommandStatus {
    // The command concludes successfully only once the reset completed ([ccw.dev.15]), else
    // it ends busy (see the class comment). Indicators are forgotten at once, so nothing from
    // before the reset can notify the driver ([ccw.dev.16]).
    const done = this.state.reset();
    this.#notifier.reset();
    return done ? 'ok' : 'busy';
  }

  #readFeatures(ccw: Ccw): CommandStatus {
    const status = this.#fetch(ccw, VIRTIO_FEATURE_DESC_SIZE);
    if (status !== 'ok') return status;
    const { index } = decodeFeatureDesc(this.#dv);
    // A legacy device has 32 feature bits.
    const word = this.#revision === VIRTIO_CCW_REV_LEGACY && index > 0 ? 0 : this.state.deviceFeatureWord(index);
    this.#dv.setUint32(0, word, true);
    return this.#store(ccw, VIRTIO_FEATURE_DESC_SIZE);
  }

  #writeFeatures(ccw: Ccw): CommandStatus {
    const status = this.#fetch(ccw, VIRTIO_FEATURE_DESC_SIZE);
    if (status !== 'ok') return status;
    const { index, features } = decodeFeatureDesc(this.#dv);
    // A legacy device has 32 feature bits: higher words from a revision 0 driver are ignored.
    if (this.#revision !== VIRTIO_CCW_REV_LEGACY || index === 0) this.state.writeDriverFeatureWord(index, features);
    return 'ok';
  }

  #readConfig(ccw: Ccw): CommandStatus {
    const size = this.device.configSize;
    const status = checkPrefixLength(ccw, size);
    if (status !== 'ok') return status;
    const len = Math.min(ccw.count, size);
    for (let off = 0; off < len; ) {
      const width = accessWidth(off, len);
      const value = this.state.readConfig(off, width);
      if (width === 4) this.#dv.setUint32(off, value, true);
      else if (width === 2) this.#dv.setUint16(off, value, true);
      else this.#buf[off] = value;
      off += width;
    }
    return this.#store(ccw, len);
  }

  #writeConfig(ccw: Ccw): CommandStatus {
    const size = this.device.configSize;
    const status = checkPrefixLength(ccw, size);
    if (status !== 'ok') return status;
    const len = Math.min(ccw.count, size);
    const fetched = fetchData(this.#memory, ccw.cda, this.#buf.subarray(0, len));
    if (fetched !== 'ok') return fetched;
    for (let off = 0; off < len; ) {
      const width = accessWidth(off, len);
      const value = width === 4 ? this.#dv.getUint32(off, true) : width === 2 ? this.#dv.getUint16(off, true) : this.#buf[off];
      this.state.writeConfig(off, width, value);
      off += width;
    }
    return 'ok';
  }

  #writeStatus(ccw: Ccw): CommandStatus {
    const status = this.#fetch(ccw, STATUS_SIZE);
    if (status !== 'ok') return status;
    const value = this.#buf[0];
    if (value === 0) return this.#reset();
    // [ccw.dev.9] a status the device cannot take whole (e.g. FEATURES_OK refused) is a
    // command reject and leaves the status as it was.
    if (!this.state.acceptsStatus(value)) return 'command-reject';
    this.state.writeStatus(value);
    return 'ok';
  }

  #readStatus(ccw: Ccw): CommandStatus {
    const status = checkLength(ccw, STATUS_SIZE);
    if (status !== 'ok') return status;
    this.#buf[0] = this.state.status; // [ccw.dev.10]
    return this.#store(ccw, STATUS_SIZE);
  }

  #setIndicators(ccw: Ccw, which: 'queue' | 'config'): CommandStatus {
    const status = this.#fetch(ccw, INDICATOR_ADDRESS_SIZE);
    if (status !== 'ok') return status;
    const indicators = ClassicIndicators.at(this.#memory, this.#dv.getBigUint64(0));
    if (!indicators) return 'command-reject';
    if (which === 'config') this.#notifier.setConfigIndicators(indicators);
    // Two-stage indicators set up already: a command reject (spec 4.3.2.6.1).
    else if (!this.#notifier.setQueueIndicators(indicators)) return 'command-reject';
    return 'ok';
  }

  #setAdapterIndicators(ccw: Ccw): CommandStatus {
    const status = this.#fetch(ccw, VIRTIO_THININT_AREA_SIZE);
    if (status !== 'ok') return status;
    const indicators = AdapterIndicators.at(this.#memory, decodeThinintArea(this.#dv), this.device.numQueues);
    // Unusable memory, or classic indicators set up already ([ccw.dev.11]): a command reject.
    return indicators && this.#notifier.setAdapterIndicators(indicators) ? 'ok' : 'command-reject';
  }

  #readVqConfig(ccw: Ccw): CommandStatus {
    const status = this.#fetch(ccw, VQ_CONFIG_BLOCK_SIZE);
    if (status !== 'ok') return status;
    const index = this.#dv.getUint16(0);
    // A queue the device does not have reads as size 0.
    this.#dv.setUint16(2, this.state.queue(index)?.maxSize ?? 0);
    return this.#store(ccw, VQ_CONFIG_BLOCK_SIZE);
  }
}

/** The widest naturally aligned access (4, 2 or 1 bytes) at `off` that stays below `len`. */
function accessWidth(off: number, len: number): 1 | 2 | 4 {
  if (off % 4 === 0 && off + 4 <= len) return 4;
  if (off % 2 === 0 && off + 2 <= len) return 2;
  return 1;
}
