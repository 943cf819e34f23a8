import type { GuestMemory } from '../memory/guest-memory.js';
import { PackedDeviceQueue } from '../packed/device-queue.js';
import { PackedDriverQueue } from '../packed/driver-queue.js';
import { SplitDeviceQueue } from '../split/device-queue.js';
import { SplitDriverQueue, type DriverQueueOptions } from '../split/driver-queue.js';
import type { DeviceQueue, DriverQueue, GuestAllocator, QueueConfig } from './types.js';

/** Options of {@link createDriverQueue}: the size, the layout and the negotiated ring features. */
export interface CreateDriverQueueOptions extends DriverQueueOptions {
  /** VIRTIO_F_RING_PACKED negotiated: lay out a packed ring instead of a split one. */
  readonly packed: boolean;
}

/**
 * The device side of a queue as the driver configured it, in the layout `config.packed`
 * names (split, spec 2.7, or packed, spec 2.8): devices never branch on the layout.
 * @throws VirtqueueError 'bad-queue-config' / 'address-out-of-range' for a bad configuration.
 */
export function createDeviceQueue(memory: GuestMemory, config: QueueConfig): DeviceQueue {
  if (config.packed) return new PackedDeviceQueue(memory, config);
  return new SplitDeviceQueue(memory, config);
}

/**
 * The driver side of a queue, laid out in guest memory with `allocator`, in the layout
 * `opts.packed` names.
 * @throws VirtqueueError 'bad-queue-config' for a bad size; allocator errors when out of memory.
 */
export function createDriverQueue<T = unknown>(
  memory: GuestMemory,
  allocator: GuestAllocator,
  opts: CreateDriverQueueOptions,
): DriverQueue<T> {
  if (opts.packed) return new PackedDriverQueue<T>(memory, allocator, { size: opts.size, packed: true, features: opts.features });
  return new SplitDriverQueue<T>(memory, allocator, opts);
}
