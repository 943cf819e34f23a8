// Tiny real-mode guests for the tests: 64 KiB of RAM at guest-physical 0, code at 0x1000.
import { accessSync, constants } from 'node:fs';
import { describe } from 'vitest';
import { GuestRam, Kvm, Vcpu, Vm } from '../../src/index.js';

/** Whether this host has a usable /dev/kvm; tests needing it skip with NO_KVM otherwise. */
export const hasKvm = ((): boolean => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();
export const NO_KVM = 'skipped: /dev/kvm is missing or not read-writable by this user';

export const RAM_SIZE = 0x10000;
export const CODE = 0x1000;
/** The port the guests use to report a value to the test (`out 0x10, al`). */
export const REPORT_PORT = 0x10;

export interface Guest {
  kvm: Kvm;
  vm: Vm;
  ram: GuestRam;
  vcpu: Vcpu;
  close(): void;
}

export interface GuestOptions {
  /** Create the in-kernel irqchip before the vCPU. */
  irqchip?: boolean;
  /** Map kvm_run in this thread (default true); false leaves `vcpu` unmapped after set-up, fd open. */
  keepMapped?: boolean;
}

/** A VM with one vCPU in real mode at 0000:1000 running `code`, stack at 0000:8000. */
export function realModeGuest(code: readonly number[], options: GuestOptions = {}): Guest {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const ram = GuestRam.allocate(RAM_SIZE);
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0, size: ram.size, hostAddress: ram.hostAddress });
  if (options.irqchip) vm.createIrqchip();
  ram.bytes().set(code, CODE);
  const vcpu = vm.vcpu(0);
  const sregs = vcpu.getSregs();
  for (const segment of [sregs.cs, sregs.ds, sregs.es, sregs.ss]) {
    segment.base = 0n;
    segment.selector = 0;
  }
  vcpu.setSregs(sregs);
  vcpu.setRegs({ ...vcpu.getRegs(), rip: BigInt(CODE), rsp: 0x8000n, rflags: 2n });
  return {
    kvm,
    vm,
    ram,
    vcpu,
    close() {
      vcpu.close();
      vm.close();
      ram.close();
      kvm.close();
    },
  };
}

/** Little-endian bytes of a 16-bit immediate. */
export const imm16 = (value: number): number[] => [value & 0xff, (value >> 8) & 0xff];

/** Machine code, real mode (16-bit). */
export const asm = {
  movDx: (value: number) => [0xba, ...imm16(value)],
  movAl: (value: number) => [0xb0, value],
  movAx: (value: number) => [0xb8, ...imm16(value)],
  movDsAx: [0x8e, 0xd8],
  outDxAl: [0xee],
  outDxAx: [0xef],
  inDxAx: [0xed],
  outImmAl: (port: number) => [0xe6, port],
  inAlImm: (port: number) => [0xe4, port],
  /** mov word [addr], value */
  movWordMem: (addr: number, value: number) => [0xc7, 0x06, ...imm16(addr), ...imm16(value)],
  /** mov byte [addr], value */
  movByteMem: (addr: number, value: number) => [0xc6, 0x06, ...imm16(addr), value],
  /** mov al, [addr] */
  movAlMem: (addr: number) => [0xa0, ...imm16(addr)],
  hlt: [0xf4],
  sti: [0xfb],
  iret: [0xcf],
  /** jmp $ (an endless loop) */
  jmpSelf: [0xeb, 0xfe],
};

/** `describe` for suites that need /dev/kvm: skipped, with the reason in its title, when absent. */
export function describeKvm(name: string, body: () => void): void {
  if (hasKvm) describe(name, body);
  else describe.skip(`${name} — ${NO_KVM}`, body);
}
