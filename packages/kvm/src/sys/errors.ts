// Typed errors for failed system calls and KVM ioctls.
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno value (`EINTR`, `EACCES` ...), or `E<number>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

const hints: Record<string, string> = {
  ENOENT: 'no such device: is KVM available (modprobe kvm_intel / kvm_amd) and is the path right?',
  EACCES: 'is /dev/kvm readable and writable by this user (group kvm)?',
  EPERM: 'operation not permitted for this user',
  ENXIO: 'the KVM module is loaded but no virtualization hardware is usable',
};

/**
 * A failed KVM ioctl or system call. `ioctl` names the call (`KVM_CREATE_VM`, `open`, `mmap` ...),
 * `errno` is the raw errno value and `code` its symbolic name (`EINVAL`, `EACCES` ...).
 */
export class KvmError extends Error {
  /** Name of the ioctl or system call that failed. */
  readonly ioctl: string;
  /** errno value reported by the kernel. */
  readonly errno: number;
  /** Symbolic errno name, e.g. `EINVAL`. */
  readonly code: string;

  constructor(ioctl: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    const hint = detail ?? hints[code];
    super(`${ioctl} failed: ${code}${hint ? ` — ${hint}` : ''}`);
    this.name = 'KvmError';
    this.ioctl = ioctl;
    this.errno = errno;
    this.code = code;
  }
}
