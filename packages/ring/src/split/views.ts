import { GuestMemoryError, VirtqueueError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';

/**
 * Resolves one ring part to a zero-copy byte view, once, at queue construction.
 * @throws VirtqueueError 'bad-queue-config' when the guest address is not a multiple of
 *   `align`, the part crosses a region boundary, or its host view is misaligned for typed
 *   arrays; 'address-out-of-range' when it lies outside guest memory.
 */
export function ringPart(memory: GuestMemory, addr: number, len: number, align: number, what: string): Uint8Array {
  if (!Number.isSafeInteger(addr) || addr < 0 || addr % align !== 0) {
    throw new VirtqueueError('bad-queue-config', `${what} address 0x${addr.toString(16)} is not a multiple of ${align}`);
  }
  if (!memory.contains(addr, len)) {
    throw new VirtqueueError('address-out-of-range', `${what} [0x${addr.toString(16)}, +${len}) is outside guest memory`);
  }
  let view: Uint8Array;
  try {
    view = memory.view(addr, len);
  } catch (e) {
    if (!(e instanceof GuestMemoryError)) throw e;
    throw new VirtqueueError('bad-queue-config', `${what} at 0x${addr.toString(16)} crosses a guest memory region boundary`);
  }
  if (view.byteOffset % align !== 0) {
    throw new VirtqueueError('bad-queue-config', `${what} at 0x${addr.toString(16)} is misaligned in host memory`);
  }
  return view;
}

/** A Uint16Array over a ring part (byteOffset already checked even). */
export function u16View(v: Uint8Array): Uint16Array {
  return new Uint16Array(v.buffer, v.byteOffset, v.byteLength >>> 1);
}

/** A Uint32Array over a ring part (byteOffset already checked to be a multiple of 4). */
export function u32View(v: Uint8Array): Uint32Array {
  return new Uint32Array(v.buffer, v.byteOffset, v.byteLength >>> 2);
}

/** vring_need_event (spec 2.7.10 / virtio_ring.h): whether moving idx from `old` to `next` passed `event`. */
export function needEvent(event: number, next: number, old: number): boolean {
  return ((next - event - 1) & 0xffff) < ((next - old) & 0xffff);
}
