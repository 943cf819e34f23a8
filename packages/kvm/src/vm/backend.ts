// Which kernel module provides /dev/kvm: hardware virtualization or kvm-pvm (see
// /work/shared/notes/testing-real-guests.md: kvm-pvm runs tiny real-mode guests, not a stock kernel).
import { existsSync } from 'node:fs';

/** The provider of /dev/kvm: 'intel' (kvm_intel, VMX), 'amd' (kvm_amd, SVM), 'pvm' (kvm_pvm), or 'unknown'. */
export type KvmBackend = 'intel' | 'amd' | 'pvm' | 'unknown';

/** Detects the KVM backend from /sys/module (kvm_pvm wins when several are loaded). */
export function kvmBackend(sysModule = '/sys/module'): KvmBackend {
  if (existsSync(`${sysModule}/kvm_pvm`)) return 'pvm';
  if (existsSync(`${sysModule}/kvm_intel`)) return 'intel';
  if (existsSync(`${sysModule}/kvm_amd`)) return 'amd';
  return 'unknown';
}

/** One line saying what this host's KVM can run, for a VMM's start-up message. */
export function describeKvmBackend(backend: KvmBackend = kvmBackend()): string {
  switch (backend) {
    case 'pvm':
      return 'KVM is kvm-pvm (software nested virtualization): tiny real-mode guests run, a stock Linux kernel does not';
    case 'intel':
      return 'KVM is kvm_intel (hardware VMX)';
    case 'amd':
      return 'KVM is kvm_amd (hardware SVM)';
    default:
      return 'KVM provider unknown (no kvm_intel, kvm_amd or kvm_pvm in /sys/module)';
  }
}
