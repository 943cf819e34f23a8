// Typed errors: failed opens and ioctls become KvmError with the call, errno and its name.
import { afterEach, describe, expect, it } from 'vitest';
import { errnoName, Kvm, KvmError, Vcpu } from '../src/index.js';
import { asm, describeKvm, realModeGuest, type Guest } from './helpers/guest.js';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('KvmError', () => {
  it('carries the call, the errno and its symbolic name in a readable message', () => {
    const error = new KvmError('KVM_CREATE_VM', 13);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'KvmError', ioctl: 'KVM_CREATE_VM', errno: 13, code: 'EACCES' });
    expect(error.message).toBe('KVM_CREATE_VM failed: EACCES — is /dev/kvm readable and writable by this user (group kvm)?');
  });

  it('names errno values, unknown ones included', () => {
    expect(errnoName(4)).toBe('EINTR');
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(100_000)).toBe('E100000');
  });

  it('explains a missing device when opening', () => {
    const error = thrown(() => Kvm.open('/nonexistent/kvm'));
    expect(error).toBeInstanceOf(KvmError);
    expect(error).toMatchObject({ ioctl: 'open /nonexistent/kvm', code: 'ENOENT', errno: 2 });
    expect((error as Error).message).toMatch(/ENOENT — no such device/);
  });

  it('rejects a file that is not /dev/kvm: the first ioctl fails with ENOTTY', () => {
    const error = thrown(() => Kvm.open('/dev/null'));
    expect(error).toMatchObject({ name: 'KvmError', ioctl: 'KVM_GET_API_VERSION', code: 'ENOTTY' });
  });
});

let guest: Guest | null = null;
afterEach(() => {
  guest?.close();
  guest = null;
});

describeKvm('ioctl failures', () => {
  it('reports EEXIST for a second vCPU with the same id', () => {
    guest = realModeGuest(asm.hlt);
    expect(thrown(() => guest!.vm.createVcpu(0))).toMatchObject({ ioctl: 'KVM_CREATE_VCPU', code: 'EEXIST' });
  });

  it('reports an irqchip created after a vCPU as a KvmError', () => {
    guest = realModeGuest(asm.hlt);
    expect(thrown(() => guest!.vm.createIrqchip())).toMatchObject({ name: 'KvmError', ioctl: 'KVM_CREATE_IRQCHIP', code: 'EINVAL' });
  });

  it('reports KVM_GET_LAPIC without an in-kernel irqchip', () => {
    guest = realModeGuest(asm.hlt);
    expect(thrown(() => guest!.vcpu.getLapic())).toMatchObject({ name: 'KvmError', ioctl: 'KVM_GET_LAPIC' });
  });

  it('reports a vCPU mapping of an fd that is not a vCPU', () => {
    guest = realModeGuest(asm.hlt);
    expect(thrown(() => new Vcpu(guest!.vm.fd, guest!.vcpu.mmapSize))).toMatchObject({ name: 'KvmError', ioctl: 'mmap kvm_run' });
    expect(() => new Vcpu(guest!.vcpu.fd, 100)).toThrow(RangeError);
  });

  it('reports KVM_RUN on a closed vCPU fd as EBADF', () => {
    guest = realModeGuest(asm.hlt);
    const owner = guest.vm.vcpu(1);
    const second = new Vcpu(owner.fd, owner.mmapSize); // a second mapping of the same kvm_run
    owner.close(); // closes the fd; `second` still holds its number and its own mapping
    try {
      expect(thrown(() => second.run())).toMatchObject({ ioctl: 'KVM_RUN', code: 'EBADF' });
    } finally {
      second.close(true);
    }
  });

  it('reports an MSR KVM does not know', () => {
    guest = realModeGuest(asm.hlt);
    expect(thrown(() => guest!.vcpu.setMsrs([{ index: 0xdead_0000, data: 1n }]))).toMatchObject({ name: 'KvmError', ioctl: 'KVM_SET_MSRS' });
    expect(guest.vcpu.getMsrs([0xdead_0000])).toEqual([]);
  });
});

describeKvm('closed vCPU', () => {
  it('refuses run(), immediateExit and kick() after close() instead of touching unmapped kvm_run', () => {
    guest = realModeGuest(asm.hlt);
    const vcpu = guest.vm.vcpu(1);
    vcpu.close(true);
    expect(thrown(() => vcpu.run())).toMatchObject({ ioctl: 'KVM_RUN', code: 'EBADF' });
    expect(thrown(() => vcpu.immediateExit)).toMatchObject({ code: 'EBADF' });
    expect(thrown(() => vcpu.kick(0n))).toMatchObject({ ioctl: 'kick', code: 'EBADF' });
  });
});
