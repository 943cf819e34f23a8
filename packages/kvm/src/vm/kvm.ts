// The KVM system fd (/dev/kvm): API version, capabilities, supported CPUID, VM creation.
import { Cap, IOCTL, KVM_API_VERSION, REQUIRED_CAPS } from '../abi/numbers.js';
import { KvmError } from '../sys/errors.js';
import { decodeCpuid, encodeCpuid, type CpuidEntry } from '../vcpu/registers.js';
import { closeFd, ioctlBuffer, ioctlValue, openRw } from '../sys/calls.js';
import { Vm } from './vm.js';

const E2BIG = 7;

/** An open /dev/kvm. */
export class Kvm {
  /** The /dev/kvm file descriptor. */
  readonly fd: number;
  /** Bytes to mmap for each vCPU's kvm_run (KVM_GET_VCPU_MMAP_SIZE). */
  readonly vcpuMmapSize: number;

  private constructor(fd: number) {
    this.fd = fd;
    this.vcpuMmapSize = ioctlValue(fd, 'KVM_GET_VCPU_MMAP_SIZE', IOCTL.GET_VCPU_MMAP_SIZE);
  }

  /**
   * Opens `path`, checks KVM_GET_API_VERSION is 12 and the capabilities in REQUIRED_CAPS.
   * @throws KvmError: ENOENT (no KVM), EACCES (permissions), ENOTSUP (wrong API version or a
   *   missing capability, named in the message).
   */
  static open(path = '/dev/kvm'): Kvm {
    const fd = openRw(path);
    try {
      const version = ioctlValue(fd, 'KVM_GET_API_VERSION', IOCTL.GET_API_VERSION);
      if (version !== KVM_API_VERSION) {
        throw new KvmError('KVM_GET_API_VERSION', 95, `API version ${version}, expected ${KVM_API_VERSION}`);
      }
      const kvm = new Kvm(fd);
      for (const cap of REQUIRED_CAPS) {
        if (kvm.checkExtension(Cap[cap]) <= 0) throw new KvmError('KVM_CHECK_EXTENSION', 95, `KVM_CAP_${cap} is not supported`);
      }
      return kvm;
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /** KVM_CHECK_EXTENSION: 0 when `cap` (a {@link Cap} value) is unsupported, else a positive, cap-specific value. */
  checkExtension(cap: number): number {
    return ioctlValue(this.fd, 'KVM_CHECK_EXTENSION', IOCTL.CHECK_EXTENSION, cap);
  }

  /** KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can expose, for {@link Vcpu.setCpuid2}. */
  supportedCpuid(): CpuidEntry[] {
    for (let room = 64; ; room *= 2) {
      const bytes = encodeCpuid(room);
      try {
        ioctlBuffer(this.fd, 'KVM_GET_SUPPORTED_CPUID', IOCTL.GET_SUPPORTED_CPUID, bytes);
        return decodeCpuid(bytes);
      } catch (error) {
        if (!(error instanceof KvmError && error.errno === E2BIG) || room >= 4096) throw error;
      }
    }
  }

  /** KVM_CREATE_VM: a new VM with no memory and no vCPUs. */
  createVm(): Vm {
    return new Vm(ioctlValue(this.fd, 'KVM_CREATE_VM', IOCTL.CREATE_VM), this.vcpuMmapSize);
  }

  /** Closes /dev/kvm (VMs created from it stay usable). */
  close(): void {
    closeFd(this.fd);
  }
}
