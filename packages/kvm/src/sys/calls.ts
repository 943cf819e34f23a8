// Checked wrappers around the libc bindings: a failed call throws a KvmError. Internal.
import { KvmError } from './errors.js';
import * as libc from './libc.js';

/** Throws a KvmError for `name` when `result` is negative (errno read at once, same thread). */
export function check(name: string, result: number): number {
  if (result < 0) throw new KvmError(name, libc.errno());
  return result;
}

/** An ioctl with an integer (or no) argument; returns the non-negative result. */
export function ioctlValue(fd: number, name: string, request: number, arg = 0): number {
  return check(name, libc.ioctlValue(fd, request, arg));
}

/** An ioctl whose argument points into `buffer`; returns the non-negative result. */
export function ioctlBuffer(fd: number, name: string, request: number, buffer: Uint8Array): number {
  return check(name, libc.ioctlBuffer(fd, request, buffer));
}

/** Opens a file read-write with O_CLOEXEC. */
export function openRw(path: string): number {
  return check(`open ${path}`, libc.open(path, libc.O_RDWR | libc.O_CLOEXEC));
}

/** close(2); errors are ignored (the descriptor is gone either way). */
export function closeFd(fd: number): void {
  libc.close(fd);
}

/** Maps `length` bytes of `fd` shared and read-write; returns the host address. */
export function mapShared(name: string, fd: number, length: number, extraFlags = 0): bigint {
  const address = libc.mmap(null, length, libc.PROT_READ | libc.PROT_WRITE, libc.MAP_SHARED | extraFlags, fd, 0);
  if (address === libc.MAP_FAILED || address === 0n) throw new KvmError(name, libc.errno());
  return address;
}
