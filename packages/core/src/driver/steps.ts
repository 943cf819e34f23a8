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
 * Resets the device and waits until device status reads 0.
 * @throws DeviceInitError 'reset-timeout'
 */
export function resetDevice(transport: DriverTransport): void {
  transport.setStatus(0);
  for (let i = 0; i < RESET_POLL_LIMIT; i++) if (transport.getStatus() === 0) return;
  throw new DeviceInitError('reset-timeout', `device status not 0 after ${RESET_POLL_LIMIT} reads`);
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
