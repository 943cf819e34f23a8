/**
 * Steps of the driver initialization sequence (spec 3.1.1) used both while initializing and
 * afterwards (device reset, queue re-enable after a queue reset).
 */
import { createDriverQueue, isValidSplitQueueSize, type DriverQueue, type GuestAllocator, type GuestMemory } from '@virtio/ring';
import { isPacked, ringFeatures } from '../features.js';
import { DeviceInitError } from './errors.js';
import type { DriverTransport } from './transport.js';

/** One queue the driver sets up, by index. */
export interface QueueRequest {
  readonly index: number;
  /** Wanted size; the device's maximum when omitted. Lowered to the maximum (and, split, to a power of two). */
  readonly size?: number;
}

/** Reads of device status while waiting for a reset to complete. */
export const RESET_POLL_LIMIT = 1000;

/**
 * Resets the device and reads device status until it is 0 ([basic.drv.7]), at most
 * {@link RESET_POLL_LIMIT} times, without yielding: for devices whose reset completes on
 * another thread or synchronously. See {@link resetDeviceAsync} otherwise.
 * @throws DeviceInitError 'reset-timeout'
 */
export function resetDevice(transport: DriverTransport): void {
  transport.setStatus(0);
  for (let i = 0; i < RESET_POLL_LIMIT; i++) if (transport.getStatus() === 0) return;
  throw new DeviceInitError('reset-timeout', `device status not 0 after ${RESET_POLL_LIMIT} reads`);
}

/** How {@link resetDeviceAsync} waits between reads of device status. */
export interface ResetWaitOptions {
  /** Reads of device status before giving up. Default {@link RESET_POLL_LIMIT}. */
  readonly polls?: number;
  /** Waits between two reads. Default: a 1 ms timer (as Linux's virtio_pci sleeps 1 ms between reads). */
  readonly pause?: () => Promise<void>;
}

type TimerFn = (callback: () => void, ms: number) => unknown;

/** A 1 ms pause on the host's timer (setTimeout exists in browsers and in Node). */
function defaultPause(): Promise<void> {
  const timer = (globalThis as { setTimeout?: TimerFn }).setTimeout;
  return timer ? new Promise((resolve) => timer(resolve, 1)) : Promise.resolve();
}

/**
 * Resets the device and waits, without blocking, until device status reads 0: the driver
 * considers the reset complete only then ([basic.drv.7]). Use it for devices in the same
 * thread whose reset waits for in-flight work (a synchronous poll could never see it end).
 * Returns without pausing when the reset completed at once.
 * @throws DeviceInitError 'reset-timeout' (the promise rejects) after `polls` reads
 */
export async function resetDeviceAsync(transport: DriverTransport, opts: ResetWaitOptions = {}): Promise<void> {
  const polls = opts.polls ?? RESET_POLL_LIMIT;
  const pause = opts.pause ?? defaultPause;
  transport.setStatus(0);
  for (let i = 0; i < polls; i++) {
    if (transport.getStatus() === 0) return;
    if (i + 1 < polls) await pause();
  }
  throw new DeviceInitError('reset-timeout', `device status not 0 after ${polls} reads`);
}

/** Lays out and enables one queue; undefined when the device does not have it. */
export function setUpQueue(
  transport: DriverTransport,
  opts: { readonly memory: GuestMemory; readonly allocator: GuestAllocator },
  req: QueueRequest,
  features: bigint,
): DriverQueue | undefined {
  const max = transport.queueMaxSize(req.index);
  if (max === 0 || transport.queueEnabled(req.index)) return undefined;
  const packed = isPacked(features);
  let size = Math.min(req.size ?? max, max);
  if (!packed) while (size > 1 && !isValidSplitQueueSize(size)) size = 2 ** Math.floor(Math.log2(size));
  const q = createDriverQueue(opts.memory, opts.allocator, { size, packed, features: ringFeatures(features) });
  transport.setupQueue(req.index, q.config);
  return transport.queueEnabled(req.index) ? q : undefined;
}
