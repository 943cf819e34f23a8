/**
 * The device-side state machine every transport drives (spec 2 "Basic Facilities of a Virtio
 * Device", 3 "General Initialization and Device Operation"): device status, feature
 * negotiation, queue configuration, activation at DRIVER_OK, reset, queue reset, suspend,
 * configuration space and its generation. Transports translate their registers into calls
 * on it; everything the driver writes is validated here and never throws.
 */
import { VirtqueueError, type DeviceQueue, type GuestMemory, type QueueConfig } from '@virtio/ring';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_SUSPEND,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_SUSPEND,
  VIRTIO_F_VERSION_1,
  VIRTQUEUE_MAX_COUNT,
  VIRTQUEUE_MAX_SIZE,
} from '../constants.js';
import type { ActivateContext, InterruptSink, VirtioDevice } from '../device.js';
import { FEATURE_WORDS, featureWord, hasFeature, isPacked, ringFeatures, withFeatureWord } from '../features.js';
import { newCounters, type TransportCounters } from './counters.js';
import { allowedFeatures, offerProblems, type TransportKind } from './feature-rules.js';
import { Activation } from './activation.js';
import { QueueState } from './queue-state.js';
import { createDeviceQueue } from './queue-factory.js';
import { asError, whenSettled } from './settle.js';

/** Builds the device side of a queue from its configuration (default: @virtio/ring's createDeviceQueue). */
export type DeviceQueueFactory = (memory: GuestMemory, config: QueueConfig) => DeviceQueue;

export interface TransportStateOptions {
  /** Guest memory the device's queues live in. */
  readonly memory: GuestMemory;
  /** Where device notifications go; the transport maps them to its interrupt mechanism. */
  readonly interrupt: InterruptSink;
  /** The transport; decides which reserved feature bits exist (e.g. VIRTIO_F_SR_IOV only on PCI). */
  readonly transport: TransportKind;
  /**
   * Default true: a non-transitional device, FEATURES_OK requires VIRTIO_F_VERSION_1.
   * false: a transitional device that also accepts legacy drivers (no FEATURES_OK step).
   */
  readonly modern?: boolean;
  /** Replaces @virtio/ring's createDeviceQueue (tests, instrumentation). */
  readonly createQueue?: DeviceQueueFactory;
}

const DRIVER_BITS =
  VIRTIO_CONFIG_S_ACKNOWLEDGE |
  VIRTIO_CONFIG_S_DRIVER |
  VIRTIO_CONFIG_S_FEATURES_OK |
  VIRTIO_CONFIG_S_DRIVER_OK |
  VIRTIO_CONFIG_S_FAILED;

/**
 * The device side of the VIRTIO negotiation, shared by PCI, MMIO and CCW.
 *
 * @throws TypeError from the constructor when the device itself is malformed (offers a
 * reserved or transport-unsupported feature bit, lacks VIRTIO_F_VERSION_1 while modern, more
 * than 65536 queues, a queue larger than 32768): a programming error, not guest input.
 */
export class VirtioTransportState {
  readonly device: VirtioDevice;
  readonly memory: GuestMemory;
  readonly transport: TransportKind;
  readonly modern: boolean;
  readonly numQueues: number;
  /** Ignored, refused and dropped operations; never reset. */
  readonly counters: TransportCounters = newCounters();
  /** Why DEVICE_NEEDS_RESET was set, until the next reset. */
  lastError: Error | undefined;

  readonly #sink: InterruptSink;
  readonly #createQueue: DeviceQueueFactory;
  readonly #queues: QueueState[];
  readonly #allowed: bigint;
  #status = 0;
  #driverFeatures = 0n;
  #negotiated = 0n;
  #generation = 0;
  #activation: Activation | undefined;
  #suspending = false;
  #pendingConfigChange = false;
  /** VIRTIO_F_NOTIFICATION_DATA negotiated (cached off the BigInt for the notify path). */
  #notificationData = false;
  /** A device reset is under way: the device's reset() promise has not settled yet. */
  #resetPending = false;
  /** Bumped at every device reset: a settling reset() promise completes only its own reset. */
  #resetEpoch = 0;
  /** Per queue: the token of its pending queue reset (the settling promise must match it). */
  readonly #queueResets: (object | undefined)[] = [];
  /** Callers of {@link whenResetComplete} waiting for pending resets. */
  #resetWaiters: (() => void)[] = [];

  constructor(device: VirtioDevice, opts: TransportStateOptions) {
    this.device = device;
    this.memory = opts.memory;
    this.transport = opts.transport;
    this.modern = opts.modern ?? true;
    this.#sink = opts.interrupt;
    this.#createQueue = opts.createQueue ?? createDeviceQueue;
    this.#allowed = allowedFeatures(this.transport, !this.modern);
    const problems = offerProblems(device.deviceFeatures, this.transport, this.modern);
    if (problems.length > 0) throw new TypeError(`device ${device.deviceId}: ${problems.join('; ')}`);
    if (!Number.isInteger(device.numQueues) || device.numQueues < 0 || device.numQueues > VIRTQUEUE_MAX_COUNT) {
      throw new TypeError(`device ${device.deviceId}: numQueues ${device.numQueues} outside 0..${VIRTQUEUE_MAX_COUNT}`);
    }
    this.numQueues = device.numQueues;
    this.#queues = [];
    for (let i = 0; i < this.numQueues; i++) {
      const max = device.queueMaxSize(i);
      if (!Number.isInteger(max) || max < 0 || max > VIRTQUEUE_MAX_SIZE) {
        throw new TypeError(`device ${device.deviceId}: queue ${i} max size ${max} outside 0..${VIRTQUEUE_MAX_SIZE}`);
      }
      this.#queues.push(new QueueState(i, max, this.counters));
    }
    device.attach?.({ configChanged: () => this.#configChanged() });
  }

  // ---------------------------------------------------------------- device status (spec 2.1)

  /**
   * The device status byte. While a suspend is in progress, reading completes it once every
   * chain the device popped was pushed back (then SUSPEND reads 1 and DRIVER_OK 0).
   * While a device reset is under way ({@link resetPending}) it keeps reading the status the
   * driver last saw: spec 2.4 has the device indicate completion "by reinitializing device
   * status to 0", so until then the status is not reinitialized, and it reads non-zero
   * whenever the device had anything to wait for (an activated device has DRIVER_OK set).
   */
  get status(): number {
    if (this.#suspending) this.#completeSuspend();
    return this.#status;
  }

  /** Whether the device is live: DRIVER_OK set and not suspended or reset. */
  get live(): boolean {
    return !this.#resetPending && (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
  }

  /**
   * A device reset is under way: the device's reset() returned a promise that has not settled.
   * Meanwhile every driver write (status, features, queue configuration, notifications,
   * configuration space) is ignored and counted in `counters.ignoredWrites`.
   */
  get resetPending(): boolean {
    return this.#resetPending;
  }

  /** Resolves when no device reset and no queue reset is under way (at once when none is). */
  whenResetComplete(): Promise<void> {
    if (!this.#resetBusy()) return Promise.resolve();
    return new Promise((resolve) => this.#resetWaiters.push(resolve));
  }

  /**
   * A driver write of device status. 0 resets the device. Otherwise bits are taken in the
   * order of spec 3.1.1; a bit whose predecessors are missing is not set, a write that clears
   * a status bit is ignored, FEATURES_OK is refused when the driver's features are not
   * acceptable, DRIVER_OK activates the device (or resumes it after SUSPEND).
   * A value outside 0..255, or any write while a reset is under way, is ignored (counted).
   * Never throws.
   */
  writeStatus(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff || this.#resetPending) {
      this.counters.ignoredWrites++;
      return;
    }
    const v = value;
    if (v === 0) {
      this.reset();
      return;
    }
    const cur = this.#status;
    if ((cur & DRIVER_BITS & ~v) !== 0) {
      // [basic.drv.1] the driver must not clear a status bit: such writes are ignored.
      this.counters.ignoredWrites++;
      return;
    }
    const fresh = v & ~cur;
    if (fresh & VIRTIO_CONFIG_S_FAILED) this.#status |= VIRTIO_CONFIG_S_FAILED;
    if (fresh & VIRTIO_CONFIG_S_ACKNOWLEDGE) this.#status |= VIRTIO_CONFIG_S_ACKNOWLEDGE;
    if (fresh & VIRTIO_CONFIG_S_DRIVER) {
      if (this.#status & VIRTIO_CONFIG_S_ACKNOWLEDGE) this.#status |= VIRTIO_CONFIG_S_DRIVER;
      else this.counters.ignoredWrites++;
    }
    if (fresh & VIRTIO_CONFIG_S_FEATURES_OK) this.#featuresOk();
    if (fresh & VIRTIO_CONFIG_S_DRIVER_OK) {
      if (this.#status & VIRTIO_CONFIG_S_SUSPEND) this.#resume();
      else this.#driverOk();
    }
    if (fresh & VIRTIO_CONFIG_S_SUSPEND) this.#suspend();
  }

  /**
   * Whether {@link writeStatus}(value) would take every bit of `value`, without changing
   * anything: CCW must leave the status unchanged and reject a write it cannot take whole
   * (spec 4.3.2.3), where PCI and MMIO take what they can.
   */
  acceptsStatus(value: number): boolean {
    if (!Number.isInteger(value) || value < 0 || value > 0xff || this.#resetPending) return false;
    if (value === 0) return true;
    const cur = this.#status;
    if ((cur & DRIVER_BITS & ~value) !== 0) return false;
    const fresh = value & ~cur;
    let s = cur | (fresh & (VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_ACKNOWLEDGE));
    if (fresh & VIRTIO_CONFIG_S_DRIVER) {
      if (!(s & VIRTIO_CONFIG_S_ACKNOWLEDGE)) return false;
      s |= VIRTIO_CONFIG_S_DRIVER;
    }
    if (fresh & VIRTIO_CONFIG_S_FEATURES_OK) {
      if (!this.#featuresAcceptable(s)) return false;
      s |= VIRTIO_CONFIG_S_FEATURES_OK;
    }
    if (fresh & VIRTIO_CONFIG_S_DRIVER_OK && !(s & VIRTIO_CONFIG_S_SUSPEND)) {
      if (!this.#driverOkReady(s)) return false;
      s |= VIRTIO_CONFIG_S_DRIVER_OK;
    }
    return !(fresh & VIRTIO_CONFIG_S_SUSPEND) || this.#suspendAllowed(s);
  }

  /**
   * Device reset (status 0 written, or the transport's reset command). Never throws.
   * The activation goes inert at once (stale pushes and notifications are dropped). When the
   * device's reset() returns a promise the reset stays under way ({@link resetPending}) until
   * it settles, fulfilled or rejected; only then does the status read 0, the generation
   * change and every queue return to its initial state ([basic.dev.7]). A reset at status 0
   * completes at once (nothing was activated since the last reset). A reset requested while
   * one is under way is ignored (counted).
   * @returns true when the reset completed before returning
   */
  reset(): boolean {
    if (this.#resetPending) {
      this.counters.ignoredWrites++;
      return false;
    }
    const wasIdle = this.#status === 0;
    this.#activation?.retire();
    this.#activation = undefined;
    this.#suspending = false;
    this.#pendingConfigChange = false;
    this.#resetPending = true;
    // Pending queue resets end with the device reset: their promises no longer count.
    this.#queueResets.length = 0;
    for (const q of this.#queues) q.freeze();
    const epoch = ++this.#resetEpoch;
    let result: unknown;
    try {
      result = this.device.reset();
    } catch {
      // A device that fails to reset cleanly is still cut off: its activation is inert.
    }
    if (wasIdle) {
      // Status 0: reset and not initialized since, so no activation: nothing of this device
      // can touch guest memory, and a status of 0 cannot present the reset as under way.
      whenSettled(result, () => {});
      this.#completeReset(epoch);
      return true;
    }
    return whenSettled(result, () => this.#completeReset(epoch));
  }

  #completeReset(epoch: number): void {
    if (epoch !== this.#resetEpoch || !this.#resetPending) return;
    this.#resetPending = false;
    this.#status = 0;
    this.#driverFeatures = 0n;
    this.#setNegotiated(0n);
    this.lastError = undefined;
    for (const q of this.#queues) q.clear();
    this.#queueResets.length = 0;
    this.#generation = (this.#generation + 1) >>> 0;
    this.#wakeResetWaiters();
  }

  #resetBusy(): boolean {
    return this.#resetPending || this.#queueResets.some((t) => t !== undefined);
  }

  #wakeResetWaiters(): void {
    if (this.#resetWaiters.length === 0 || this.#resetBusy()) return;
    const waiters = this.#resetWaiters;
    this.#resetWaiters = [];
    for (const wake of waiters) wake();
  }

  // ---------------------------------------------------------------- features (spec 2.2)

  /** The device's offered features. */
  get deviceFeatures(): bigint {
    return this.device.deviceFeatures;
  }

  /** 32-bit word `select` of the offered features (0 beyond bit 127). */
  deviceFeatureWord(select: number): number {
    return featureWord(this.device.deviceFeatures, select);
  }

  /** 32-bit word `select` of the features the driver wrote so far. */
  driverFeatureWord(select: number): number {
    return featureWord(this.#driverFeatures, select);
  }

  /** Driver writes feature word `select` (0..3). Ignored (counted) after FEATURES_OK or for another select. */
  writeDriverFeatureWord(select: number, value: number): void {
    if (!Number.isInteger(select) || select < 0 || select >= FEATURE_WORDS) {
      this.counters.ignoredWrites++;
      return;
    }
    if (this.#resetPending || this.#status & (VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)) {
      this.counters.ignoredWrites++;
      return;
    }
    this.#driverFeatures = withFeatureWord(this.#driverFeatures, select, value);
  }

  /** Features the driver wrote (not yet validated). */
  get driverFeatures(): bigint {
    return this.#driverFeatures;
  }

  /** Features in force: set at FEATURES_OK (or, for a legacy driver, at DRIVER_OK); 0 before. */
  get negotiatedFeatures(): bigint {
    return this.#negotiated;
  }

  #featuresOk(): void {
    // [basic.dev.3] refuse FEATURES_OK unless the driver's subset is acceptable.
    if (!this.#featuresAcceptable(this.#status)) {
      this.counters.featuresRejected++;
      return;
    }
    this.#setNegotiated(this.#driverFeatures);
    this.#status |= VIRTIO_CONFIG_S_FEATURES_OK;
  }

  /** Whether FEATURES_OK may be set on top of status `s` with the driver's current features. */
  #featuresAcceptable(s: number): boolean {
    const f = this.#driverFeatures;
    const ordered = (s & VIRTIO_CONFIG_S_DRIVER) !== 0 && (s & VIRTIO_CONFIG_S_FAILED) === 0;
    return (
      ordered &&
      (f & ~this.device.deviceFeatures) === 0n &&
      (f & ~this.#allowed) === 0n &&
      (!this.modern || hasFeature(f, VIRTIO_F_VERSION_1)) &&
      this.#deviceAccepts(f)
    );
  }

  #setNegotiated(features: bigint): void {
    this.#negotiated = features;
    this.#notificationData = hasFeature(features, VIRTIO_F_NOTIFICATION_DATA);
  }

  /** Whether VIRTIO_F_NOTIFICATION_DATA was negotiated: notifications then carry next_off/next_wrap. */
  get notificationData(): boolean {
    return this.#notificationData;
  }

  #deviceAccepts(features: bigint): boolean {
    if (!this.device.validateFeatures) return true;
    try {
      return this.device.validateFeatures(features) === true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- activation (DRIVER_OK)

  /** Whether DRIVER_OK may be set on top of status `s`. */
  #driverOkReady(s: number): boolean {
    const legacyDriver = !this.modern && (s & VIRTIO_CONFIG_S_FEATURES_OK) === 0;
    const ready = legacyDriver
      ? (s & VIRTIO_CONFIG_S_DRIVER) !== 0
      : (s & VIRTIO_CONFIG_S_FEATURES_OK) !== 0;
    return ready && (s & (VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET)) === 0;
  }

  #driverOk(): void {
    const s = this.#status;
    if (!this.#driverOkReady(s)) {
      this.counters.ignoredWrites++;
      return;
    }
    const legacyDriver = !this.modern && (s & VIRTIO_CONFIG_S_FEATURES_OK) === 0;
    if (legacyDriver) this.#setNegotiated(this.#driverFeatures & this.device.deviceFeatures & this.#allowed);
    this.#status |= VIRTIO_CONFIG_S_DRIVER_OK;
    const act = new Activation(this.numQueues, this.counters);
    this.#activation = act;
    for (const q of this.#queues) {
      if (q.enabled && !this.#buildQueue(q, act)) return; // DEVICE_NEEDS_RESET already set
    }
    const ctx: ActivateContext = {
      features: this.#negotiated,
      memory: this.memory,
      queues: act.queues,
      interrupt: {
        usedBuffer: (index) => this.#usedBuffer(act, index),
        configChange: () => this.#deviceConfigChange(act),
      },
      needsReset: (reason) => this.#needsReset(act, reason),
    };
    try {
      this.device.activate(ctx);
    } catch (err) {
      this.#needsReset(act, asError(err));
    }
  }

  /** Builds and installs the guarded DeviceQueue of an enabled queue; on a bad configuration sets DEVICE_NEEDS_RESET and returns undefined. */
  #buildQueue(q: QueueState, act: Activation): DeviceQueue | undefined {
    const features = this.#negotiated;
    let inner: DeviceQueue;
    try {
      const config: QueueConfig = {
        size: q.size,
        descTable: q.descTable,
        driverArea: q.driverArea,
        deviceArea: q.deviceArea,
        packed: isPacked(features),
        features: ringFeatures(features),
      };
      for (const a of [config.descTable, config.driverArea, config.deviceArea]) {
        if (!Number.isSafeInteger(a)) throw new VirtqueueError('address-out-of-range', `queue ${q.index} address 0x${a.toString(16)}`);
      }
      inner = this.#createQueue(this.memory, config);
    } catch (err) {
      this.#needsReset(act, asError(err));
      return undefined;
    }
    return act.install(q.index, inner);
  }

  // ---------------------------------------------------------------- DEVICE_NEEDS_RESET (spec 2.1.1)

  #needsReset(act: Activation, reason: Error): void {
    if (!act.live) {
      this.counters.droppedNotifications++;
      return;
    }
    this.#enterNeedsReset(reason);
  }

  #enterNeedsReset(reason: Error): void {
    const first = (this.#status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) === 0;
    this.#status |= VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
    this.lastError ??= reason;
    if (this.#activation) this.#activation.gate.pop = false;
    // [basic.dev.2] after DRIVER_OK, DEVICE_NEEDS_RESET comes with a configuration change notification.
    if (first && this.#status & VIRTIO_CONFIG_S_DRIVER_OK) this.#sink.configChange();
  }

  // ---------------------------------------------------------------- notifications

  #usedBuffer(act: Activation, index: number): void {
    if (!act.mayNotify(index)) {
      this.counters.droppedNotifications++;
      return;
    }
    this.#sink.usedBuffer(index);
  }

  #deviceConfigChange(act: Activation): void {
    if (!act.live) {
      this.counters.droppedNotifications++;
      return;
    }
    this.#notifyConfigChange();
  }

  /** DeviceHost.configChanged: the configuration space changed. */
  #configChanged(): void {
    this.#generation = (this.#generation + 1) >>> 0;
    this.#notifyConfigChange();
  }

  #notifyConfigChange(): void {
    if (this.#resetPending) {
      // [basic.dev.7] nothing reaches the driver from a device being reset.
      this.counters.droppedNotifications++;
      return;
    }
    if (this.#status & VIRTIO_CONFIG_S_SUSPEND) {
      // [basic.dev.15] no configuration change notification while suspended: send it on resume.
      this.#pendingConfigChange = true;
      return;
    }
    if (this.#status & VIRTIO_CONFIG_S_DRIVER_OK) this.#sink.configChange();
  }

  /**
   * An available buffer notification for queue `index` (`data`: the whole notification value when
   * VIRTIO_F_NOTIFICATION_DATA was negotiated). Ignored (counted) unless the device is live and
   * the queue enabled. A device that throws is marked DEVICE_NEEDS_RESET.
   */
  notify(index: number, data?: number): void {
    const act = this.#activation;
    const q = this.#queues[index];
    if (!act || !act.gate.pop || !q?.enabled || q.resetting || !(this.#status & VIRTIO_CONFIG_S_DRIVER_OK)) {
      this.counters.ignoredWrites++;
      return;
    }
    try {
      if (this.#notificationData) this.device.queueNotify(index, data);
      else this.device.queueNotify(index);
    } catch (err) {
      this.#needsReset(act, asError(err));
    }
  }

  // ---------------------------------------------------------------- queues (spec 2.6)

  /** Queue `index`'s configuration; undefined for a queue the device does not have. */
  queue(index: number): QueueState | undefined {
    return Number.isInteger(index) ? this.#queues[index] : undefined;
  }

  /**
   * The driver enables queue `index` (QueueReady / queue_enable). Ignored (counted) for a
   * non-existent or unavailable (max size 0) queue, one already enabled, while suspended or
   * while a reset is under way.
   * After DRIVER_OK the queue goes live at once and the device gets it through enableQueue.
   */
  enableQueue(index: number): void {
    const q = this.queue(index);
    if (!q || q.maxSize === 0 || q.enabled || this.#resetPending || this.#status & (VIRTIO_CONFIG_S_SUSPEND | VIRTIO_CONFIG_S_FAILED)) {
      this.counters.ignoredWrites++;
      return;
    }
    q.setEnabled(true);
    const act = this.#activation;
    if (!act?.live) return;
    const built = this.#buildQueue(q, act);
    if (!built) return;
    try {
      this.device.enableQueue?.(index, built);
    } catch (err) {
      this.#needsReset(act, asError(err));
    }
  }

  /**
   * The driver stops using queue `index` (e.g. MMIO QueueReady = 0): the device forgets its
   * in-flight chains and never touches the queue again; the configuration is kept. Completes
   * at once (a promise from the device's resetQueue is not waited for: this is no queue reset,
   * and the transports have no register that could show it under way). Ignored (counted) for
   * a disabled queue or while a reset is under way.
   */
  disableQueue(index: number): void {
    const q = this.queue(index);
    if (!q?.enabled || q.resetting || this.#resetPending) {
      this.counters.ignoredWrites++;
      return;
    }
    q.setEnabled(false);
    const act = this.#activation;
    // [basic.dev.9] nothing from the old queue reaches guest memory or the driver any more.
    if (!act?.remove(q.index)) return;
    const result = this.#deviceResetQueue(act, q.index);
    whenSettled(result, (err) => {
      if (err) this.#needsReset(act, err);
    });
  }

  /**
   * VIRTIO_F_RING_RESET: resets queue `index` to its default state (disabled, size = max,
   * addresses 0). Ignored (counted) when RING_RESET was not negotiated, the queue does not
   * exist, or a reset is under way. When the device's resetQueue() returns a promise, the
   * queue reset stays under way ({@link QueueState.resetting}: queue_reset / QueueReset read 1,
   * the queue still reads enabled, its configuration takes no writes) until it settles.
   * @returns true when the queue reset completed before returning
   */
  resetQueue(index: number): boolean {
    const q = this.queue(index);
    if (!q || q.resetting || this.#resetPending || !hasFeature(this.#negotiated, VIRTIO_F_RING_RESET)) {
      this.counters.ignoredWrites++;
      return false;
    }
    const act = this.#activation;
    // [basic.dev.9] nothing from the old queue reaches guest memory or the driver any more.
    if (!q.enabled || !act?.remove(q.index)) {
      q.clear();
      return true;
    }
    q.setResetting(true);
    const token = {};
    this.#queueResets[index] = token;
    const result = this.#deviceResetQueue(act, index);
    return whenSettled(result, (err) => {
      if (this.#queueResets[index] !== token) return; // a device reset took it over
      this.#queueResets[index] = undefined;
      q.clear();
      if (err) this.#needsReset(act, err);
      this.#wakeResetWaiters();
    });
  }

  /** The device's resetQueue(); a throw marks DEVICE_NEEDS_RESET and completes the reset. */
  #deviceResetQueue(act: Activation, index: number): unknown {
    try {
      return this.device.resetQueue?.(index);
    } catch (err) {
      this.#needsReset(act, asError(err));
      return undefined;
    }
  }

  // ---------------------------------------------------------------- suspend (spec 3.4)

  /** Whether SUSPEND may be set on top of status `s`. */
  #suspendAllowed(s: number): boolean {
    return !!this.#activation?.live && (s & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && hasFeature(this.#negotiated, VIRTIO_F_SUSPEND);
  }

  #suspend(): void {
    const act = this.#activation;
    // [basic.dev.12] SUSPEND is ignored unless initialization completed with VIRTIO_F_SUSPEND.
    if (!act || !this.#suspendAllowed(this.#status)) {
      this.counters.ignoredWrites++;
      return;
    }
    act.gate.pop = false;
    try {
      this.device.suspend?.();
    } catch (err) {
      // [basic.dev.16] a device that cannot suspend sets DEVICE_NEEDS_RESET.
      this.#enterNeedsReset(asError(err));
      return;
    }
    this.#suspending = true;
    this.#completeSuspend();
  }

  #completeSuspend(): void {
    const act = this.#activation;
    if (!act || act.busy) return;
    this.#suspending = false;
    act.gate.push = false;
    this.#status = (this.#status | VIRTIO_CONFIG_S_SUSPEND) & ~VIRTIO_CONFIG_S_DRIVER_OK;
  }

  #resume(): void {
    const act = this.#activation;
    if (!act) return;
    this.#status = (this.#status | VIRTIO_CONFIG_S_DRIVER_OK) & ~VIRTIO_CONFIG_S_SUSPEND;
    act.gate.push = true;
    act.gate.pop = (this.#status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) === 0;
    try {
      this.device.resume?.();
    } catch (err) {
      // [basic.dev.17] a device that cannot resume sets DEVICE_NEEDS_RESET.
      this.#enterNeedsReset(asError(err));
      return;
    }
    if (this.#pendingConfigChange) {
      this.#pendingConfigChange = false;
      this.#sink.configChange();
    }
    // Buffers made available while suspended: let the device look again.
    for (let i = 0; i < this.numQueues; i++) if (act.queues[i]) this.notify(i);
  }

  /** Whether SUSPEND is presented (the device is suspended). */
  get suspended(): boolean {
    return (this.#status & VIRTIO_CONFIG_S_SUSPEND) !== 0;
  }

  // ---------------------------------------------------------------- configuration space (spec 2.5)

  /** Size of the device configuration space in bytes. */
  get configSize(): number {
    return this.device.configSize;
  }

  /** Configuration generation (u32); changes whenever the driver could see an inconsistent configuration. */
  get configGeneration(): number {
    return this.#generation;
  }

  /** Reads the configuration space, little-endian. Outside the space or a bad width: 0, counted. */
  readConfig(offset: number, width: 1 | 2 | 4): number {
    if (!this.#inConfig(offset, width)) return 0;
    return this.device.readConfig(offset, width);
  }

  /** Writes the configuration space. Outside the space, a bad width, while suspended or a reset is under way: ignored, counted. */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    if (!this.#inConfig(offset, width)) return;
    if (this.#status & VIRTIO_CONFIG_S_SUSPEND || this.#resetPending) {
      // [basic.dev.13] configuration writes are ignored while suspended.
      this.counters.ignoredWrites++;
      return;
    }
    this.device.writeConfig(offset, width, value);
  }

  #inConfig(offset: number, width: number): boolean {
    const ok =
      (width === 1 || width === 2 || width === 4) &&
      Number.isInteger(offset) &&
      offset >= 0 &&
      offset + width <= this.device.configSize;
    if (!ok) this.counters.badAccesses++;
    return ok;
  }
}
