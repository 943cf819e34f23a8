/**
 * The driver initialization sequence of spec 3.1.1, written once over {@link DriverTransport}:
 * reset, ACKNOWLEDGE, DRIVER, feature negotiation, FEATURES_OK and its re-read, queue set-up,
 * DRIVER_OK. On any failure the driver sets FAILED and stops.
 */
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_NOTIFICATION_DATA,
} from '../constants.js';
import { featureMask } from '../features.js';
import { configReader, type ConfigReader } from './config-reader.js';
import { DriverDevice } from './driver-device.js';
import { DeviceInitError } from './errors.js';
import { selectFeatures, type FeatureDependency } from './select-features.js';
import { resetDevice, setUpQueue, type QueueRequest } from './steps.js';
import type { DriverTransport } from './transport.js';

export interface InitializeOptions {
  /** Guest memory the rings and buffers live in. */
  readonly memory: GuestMemory;
  /** Where the rings are allocated. */
  readonly allocator: GuestAllocator;
  /** Feature bits the driver understands (device-specific and reserved). */
  readonly wantedFeatures: bigint;
  /** Feature bits without which the driver cannot drive the device (subset of wanted). */
  readonly requiredFeatures?: bigint;
  /** Features that require others (spec 2.2.1: never accept one without its requirements). */
  readonly featureDependencies?: readonly FeatureDependency[];
  /** Queues to set up. */
  readonly queues: readonly QueueRequest[];
  /**
   * Step 4: look at the configuration space (read-only) with the offered features and decide
   * whether the driver supports the device. Return false to give up.
   */
  readonly checkConfig?: (config: ConfigReader, offered: bigint) => boolean;
  /**
   * Step 7: device-specific set-up before DRIVER_OK, e.g. filling receive queues. Buffers added
   * here are made available and notified only after DRIVER_OK.
   */
  readonly setup?: (queues: readonly (DriverQueue | undefined)[], features: bigint) => void;
}

/**
 * Initializes the device behind `transport` (spec 3.1.1).
 * @returns the live device: negotiated features, driver queues, interrupt handling.
 * @throws DeviceInitError after setting FAILED (except 'reset-timeout'); errors from the allocator.
 */
export function initializeDevice(transport: DriverTransport, opts: InitializeOptions): DriverDevice {
  resetDevice(transport);
  let status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
  transport.setStatus(status);
  status |= VIRTIO_CONFIG_S_DRIVER;
  transport.setStatus(status);
  const fail = (err: DeviceInitError): never => {
    transport.setStatus(transport.getStatus() | VIRTIO_CONFIG_S_FAILED);
    throw err;
  };

  const offered = transport.readDeviceFeatures();
  // DriverDevice.kick sends plain queue-index notifications, so VIRTIO_F_NOTIFICATION_DATA is never accepted.
  const wanted = opts.wantedFeatures & ~featureMask(VIRTIO_F_NOTIFICATION_DATA);
  const features = selectFeatures(offered, wanted, transport.kind, opts.featureDependencies);
  const missing = (opts.requiredFeatures ?? 0n) & ~features;
  if (missing !== 0n) fail(new DeviceInitError('missing-features', `device lacks 0x${missing.toString(16)}`));
  if (opts.checkConfig && !opts.checkConfig(configReader(transport), offered)) {
    fail(new DeviceInitError('config-rejected', 'the driver does not support this device configuration'));
  }
  transport.writeDriverFeatures(features);
  status |= VIRTIO_CONFIG_S_FEATURES_OK;
  transport.setStatus(status);
  if ((transport.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
    fail(new DeviceInitError('features-rejected', `device refused features 0x${features.toString(16)}`));
  }

  const queues: (DriverQueue | undefined)[] = [];
  for (const req of opts.queues) {
    const q = setUpQueue(transport, opts, req, features);
    if (!q) fail(new DeviceInitError('queue-unavailable', `queue ${req.index}`));
    queues[req.index] = q;
  }
  opts.setup?.(queues, features);
  status |= VIRTIO_CONFIG_S_DRIVER_OK;
  transport.setStatus(status);
  const device = new DriverDevice(transport, features, queues);
  for (const req of opts.queues) device.kick(req.index);
  return device;
}
