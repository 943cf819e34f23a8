/**
 * The VirtioDevice interface: what every device package implements and every transport
 * drives (spec 2 "Basic Facilities of a Virtio Device"). A device knows nothing of its
 * transport; a transport knows nothing of device types.
 */
import type { DeviceQueue, GuestMemory } from '@virtio/ring';

/** Interrupts a device can raise; the transport maps them to MSI-X, INTx+ISR, MMIO InterruptStatus or CCW indicators. */
export interface InterruptSink {
  /** Used buffer notification for queue `queueIndex` (spec 2.3 "Notifications"). */
  usedBuffer(queueIndex: number): void;
  /** Configuration change notification. */
  configChange(): void;
}

/** What a device receives when the driver sets DRIVER_OK (spec 3.1.1 step 8). */
export interface ActivateContext {
  /** The negotiated feature bits (device-specific and reserved), at most 128 bits. */
  readonly features: bigint;
  readonly memory: GuestMemory;
  /** One entry per queue index the device declared; undefined where the driver did not enable it. */
  readonly queues: readonly (DeviceQueue | undefined)[];
  readonly interrupt: InterruptSink;
  /**
   * The device calls this when the driver broke a ring (a VirtqueueError) or the device
   * otherwise cannot go on: the transport sets DEVICE_NEEDS_RESET and, after DRIVER_OK,
   * sends a configuration change notification (spec 2.1.2).
   */
  needsReset(reason: Error): void;
}

/** Services the transport offers a device from the moment it is attached. */
export interface DeviceHost {
  /**
   * The device changed its configuration space: the transport bumps the configuration
   * generation and, when the driver is live, sends a configuration change notification.
   */
  configChanged(): void;
}

/** A shared memory region a device exposes (spec 2.10 "Shared Memory Regions"). */
export interface SharedMemoryRegion {
  /** The region's shmid. */
  readonly id: number;
  /** Length in bytes. */
  readonly size: number;
}

export interface VirtioDevice {
  /** The Device ID of spec 5 (e.g. 2 for block). */
  readonly deviceId: number;
  /** Feature bits the device offers, device-specific and reserved (VIRTIO_F_VERSION_1 ...). */
  readonly deviceFeatures: bigint;
  /** Number of virtqueues the device has. */
  readonly numQueues: number;
  /** Maximum size of queue `index` (number of descriptors). */
  queueMaxSize(index: number): number;
  /** Size of the device configuration space, in bytes. */
  readonly configSize: number;
  /**
   * Reads `width` bytes (1, 2, 4) of the configuration space at `offset`, little-endian.
   * Called only with `offset + width <= configSize`.
   */
  readConfig(offset: number, width: 1 | 2 | 4): number;
  /** Writes `width` bytes of the configuration space at `offset`. Read-only fields ignore writes. */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void;
  /**
   * Device-specific check of the feature bits the driver accepted, at FEATURES_OK.
   * Return false to refuse FEATURES_OK (e.g. a feature whose required feature is missing).
   */
  validateFeatures?(features: bigint): boolean;
  /** Called once when the transport is created. */
  attach?(host: DeviceHost): void;
  /** DRIVER_OK: queues go live. */
  activate(ctx: ActivateContext): void;
  /**
   * Available buffer notification for queue `queueIndex`. `data` is the
   * VIRTIO_F_NOTIFICATION_DATA value when that feature was negotiated.
   */
  queueNotify(queueIndex: number, data?: number): void;
  /**
   * Device reset (status 0 written, spec 2.4). The transport already made every queue of the
   * activation inert and stopped its notifications. Return void when the reset is complete on
   * return; return a promise when work from before the reset (e.g. a backend read into guest
   * buffers) may still touch guest memory: it must settle once nothing from before the reset
   * can touch guest memory any more. Until it settles the transport keeps presenting the old,
   * non-zero device status and ignores driver writes; it presents 0 only then ([basic.dev.7],
   * [pci.dev.13]). A rejection, like a throw, also completes the reset (the device stays cut off).
   */
  reset(): void | Promise<void>;
  /**
   * Queue `queueIndex` stopped: reset individually (VIRTIO_F_RING_RESET) or disabled by the
   * driver. The device drops its in-flight chains of that queue; the transport already made
   * the old DeviceQueue inert, so late pushes into it are dropped. As for {@link reset}, a
   * returned promise settles once nothing from before the queue reset can touch guest memory;
   * until then queue_reset / QueueReset read 1 ([pci.dev.17], [mmio.dev.9]). A rejection
   * completes the queue reset and marks the device DEVICE_NEEDS_RESET.
   */
  resetQueue?(queueIndex: number): void | Promise<void>;
  /**
   * A queue the driver enabled after DRIVER_OK (re-enable after a queue reset, spec 2.6.1.2).
   * The transport also stores it in the activation's `queues[queueIndex]`.
   */
  enableQueue?(queueIndex: number, queue: DeviceQueue): void;
  /**
   * The driver set SUSPEND (VIRTIO_F_SUSPEND, spec 3.4): stop taking new chains. The transport
   * presents SUSPEND once every popped chain was pushed. Throwing means "cannot suspend":
   * the transport sets DEVICE_NEEDS_RESET.
   */
  suspend?(): void;
  /** The driver resumed the device (DRIVER_OK after SUSPEND). Throwing sets DEVICE_NEEDS_RESET. */
  resume?(): void;
  /** Shared memory regions, if the device has any. */
  readonly sharedMemoryRegions?: readonly SharedMemoryRegion[];
}
