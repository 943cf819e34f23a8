import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What backs /dev/kvm on this host. */
export type KvmKind = 'hardware' | 'pvm' | 'none';

/** Result of {@link detectKvm}: the kind and a one-line human description. */
export interface KvmDetection {
  /**
   * `hardware`: /dev/kvm usable and the CPU has AMD SVM or Intel VMX (stock kernels run);
   * `pvm`: /dev/kvm is kvm-pvm, which cannot run a stock kernel; `none`: no usable /dev/kvm.
   */
  readonly kind: KvmKind;
  readonly reason: string;
}

/**
 * Detects whether this host's KVM can run a stock Linux kernel, from /dev/kvm, the
 * /sys/module/kvm_pvm directory and the svm/vmx flags of /proc/cpuinfo.
 * @param root filesystem root to look under (tests pass a fixture directory).
 */
export function detectKvm(root = '/'): KvmDetection {
  const dev = join(root, 'dev/kvm');
  if (!existsSync(dev)) return { kind: 'none', reason: 'no /dev/kvm on this host' };
  try {
    accessSync(dev, constants.R_OK | constants.W_OK);
  } catch {
    return { kind: 'none', reason: '/dev/kvm exists but this user cannot open it read-write (add the user to group kvm)' };
  }
  if (existsSync(join(root, 'sys/module/kvm_pvm'))) {
    return { kind: 'pvm', reason: '/dev/kvm is kvm-pvm (software nested virtualization): it cannot run a stock kernel' };
  }
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync(join(root, 'proc/cpuinfo'), 'utf8');
  } catch {
    return { kind: 'none', reason: '/dev/kvm exists but /proc/cpuinfo is unreadable' };
  }
  const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].trim().split(/\s+/) ?? []);
  if (flags.has('svm')) return { kind: 'hardware', reason: '/dev/kvm on hardware AMD SVM (kvm_amd)' };
  if (flags.has('vmx')) return { kind: 'hardware', reason: '/dev/kvm on hardware Intel VMX (kvm_intel)' };
  return { kind: 'none', reason: '/dev/kvm exists but the CPU shows neither svm nor vmx and kvm_pvm is not loaded' };
}
