/**
 * A device the driver side initialized (spec 3.1.1 done): its negotiated features and driver
 * queues, notification of the device, interrupt handling including DEVICE_NEEDS_RESET
 * (spec 2.1.2), generation-consistent configuration reads, queue reset and device reset.
 */
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import {
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_SUSPEND,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_SUSPEND,
} from '../constants.js';
import { hasFeature } from '../features.js';
import { readConfigConsistent, type ConfigReader } from './config-reader.js';
import { DeviceInitError } from './errors.js';
import { RESET_POLL_LIMIT, resetDevice, resetDeviceAsync, setUpQueue, type ResetWaitOptions } from './steps.js';
import type { DriverTransport } from './transport.js';

/** What an interrupt meant, after {@link DriverDevice.handleInterrupt}. */
export interface DeviceEvents {
  /** Some queue may have used buffers: reap the queues. */
  readonly usedBuffer: boolean;
  /** The device configuration changed (re-read it). */
  readonly configChange: boolean;
  /** The device set DEVICE_NEEDS_RESET: in-flight requests may or may not complete; reset to recover. */
  readonly needsReset: boolean;
}

export class DriverDevice {
  readonly transport: DriverTransport;
  /** The negotiated feature bits. */
  readonly features: bigint;
  /** Driver queues by index (undefined where not set up or reset). */
  readonly queues: (DriverQueue | undefined)[];
  #needsReset = false;
  #live = true;
  #suspended = false;

  constructor(transport: DriverTransport, features: bigint, queues: (DriverQueue | undefined)[]) {
    this.transport = transport;
    this.features = features;
    this.queues = queues;
  }

  /** Whether the device reported DEVICE_NEEDS_RESET (seen by {@link handleInterrupt}). */
  get needsReset(): boolean {
    return this.#needsReset;
  }

  /**
   * Makes the buffers added to queue `index` available and sends an available buffer
   * notification when the device asked for one. Does nothing after {@link reset}.
   * @returns whether the device was notified
   */
  kick(index: number): boolean {
    const q = this.queues[index];
    if (!this.#live || this.#suspended || !q || !q.kick()) return false;
    this.transport.notify(index);
    return true;
  }

  /**
   * Call when the device's interrupt fires: reads and acknowledges the causes; on a
   * configuration change checks device status for DEVICE_NEEDS_RESET.
   */
  handleInterrupt(): DeviceEvents {
    const causes = this.transport.takeInterrupt();
    let needsReset = false;
    if (causes.configChange && (this.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0) {
      needsReset = true;
      this.#needsReset = true;
    }
    return { usedBuffer: causes.usedBuffer, configChange: causes.configChange && !needsReset, needsReset };
  }

  /** Reads configuration fields consistently (retries while the generation changes). @throws DeviceInitError 'config-unstable' */
  readConfig<T>(read: (config: ConfigReader) => T): T {
    return readConfigConsistent(this.transport, read);
  }

  /** Writes a configuration field. */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.transport.writeConfig(offset, width, value);
  }

  /**
   * Resets queue `index` (VIRTIO_F_RING_RESET, spec 2.6.1) and verifies the device completed it;
   * afterwards the queue's buffers and rings may be released.
   * @throws DeviceInitError 'queue-reset-failed' when not negotiated or the device did not complete it
   */
  resetQueue(index: number): void {
    if (!hasFeature(this.features, VIRTIO_F_RING_RESET)) {
      throw new DeviceInitError('queue-reset-failed', 'VIRTIO_F_RING_RESET was not negotiated');
    }
    if (!this.transport.resetQueue(index) || this.transport.queueEnabled(index)) {
      throw new DeviceInitError('queue-reset-failed', `queue ${index} still active`);
    }
    this.queues[index] = undefined;
  }

  /**
   * Sets a reset queue up again, as at initialization, optionally with another size.
   * @throws DeviceInitError 'queue-unavailable'
   */
  reenableQueue(index: number, opts: { memory: GuestMemory; allocator: GuestAllocator; size?: number }): DriverQueue {
    const q = setUpQueue(this.transport, opts, { index, size: opts.size }, this.features);
    if (!q) throw new DeviceInitError('queue-unavailable', `queue ${index}`);
    this.queues[index] = q;
    return q;
  }

  /**
   * Resets the device (status 0, read back). Afterwards no queue is live: the driver may take
   * back its exposed buffers. @throws DeviceInitError 'reset-timeout'
   */
  reset(): void {
    this.#live = false;
    this.queues.length = 0;
    resetDevice(this.transport);
  }

  /**
   * As {@link reset}, but waits without blocking until device status reads 0 ([basic.drv.7]),
   * for a device whose reset waits for its in-flight work. Only then may the driver take back
   * the buffers it exposed. @throws DeviceInitError 'reset-timeout' (the promise rejects)
   */
  resetAsync(opts?: ResetWaitOptions): Promise<void> {
    this.#live = false;
    this.queues.length = 0;
    return resetDeviceAsync(this.transport, opts);
  }

  /** Whether {@link suspend} succeeded and {@link resume} was not called yet. */
  get suspended(): boolean {
    return this.#suspended;
  }

  /**
   * Suspends the device (VIRTIO_F_SUSPEND, spec 3.4): sets SUSPEND and waits until device status
   * shows SUSPEND set and DRIVER_OK clear. No notifications are sent while suspended.
   * @throws DeviceInitError 'suspend-failed' when VIRTIO_F_SUSPEND was not negotiated or the
   * device does not suspend (it may have set DEVICE_NEEDS_RESET)
   */
  suspend(): void {
    if (!hasFeature(this.features, VIRTIO_F_SUSPEND)) {
      throw new DeviceInitError('suspend-failed', 'VIRTIO_F_SUSPEND was not negotiated');
    }
    this.#suspended = true;
    this.transport.setStatus(this.transport.getStatus() | VIRTIO_CONFIG_S_SUSPEND);
    this.#await(VIRTIO_CONFIG_S_SUSPEND, 'suspend');
  }

  /** Resumes a suspended device: sets DRIVER_OK and waits for SUSPEND clear and DRIVER_OK set. @throws DeviceInitError 'suspend-failed' */
  resume(): void {
    this.transport.setStatus(this.transport.getStatus() | VIRTIO_CONFIG_S_DRIVER_OK);
    this.#await(VIRTIO_CONFIG_S_DRIVER_OK, 'resume');
    this.#suspended = false;
  }

  /** Polls status until, of SUSPEND and DRIVER_OK, exactly `bit` is set. */
  #await(bit: number, what: string): void {
    const both = VIRTIO_CONFIG_S_SUSPEND | VIRTIO_CONFIG_S_DRIVER_OK;
    for (let i = 0; i < RESET_POLL_LIMIT; i++) {
      const s = this.transport.getStatus();
      if ((s & both) === bit) return;
      if (s & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) break;
    }
    throw new DeviceInitError('suspend-failed', `device did not ${what}`);
  }
}
