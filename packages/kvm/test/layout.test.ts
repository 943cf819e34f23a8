// The ABI tables (struct layouts, ioctl numbers, constants) against the kernel headers, compiled
// with the system C compiler, and against the figures measured in kvm-from-node.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as abi from '../src/abi/numbers.js';
import * as libc from '../src/sys/libc.js';
import { KICK_SIGNAL } from '../src/vcpu/kick.js';
import { LAYOUTS } from '../src/abi/structs.js';

const { Cap, ExitReason, IOCTL, MemFlags, MpState, SystemEvent } = abi;

/** Every constant with the C expression it must equal. */
function expectations(): [name: string, cExpression: string, value: number][] {
  const rows: [string, string, number][] = [];
  for (const [struct, layout] of Object.entries(LAYOUTS)) {
    const type = `struct ${struct}`;
    if (layout.size !== null) rows.push([`sizeof(${type})`, `sizeof(${type})`, layout.size]);
    for (const [member, offset] of Object.entries(layout.fields)) {
      rows.push([`offsetof(${type}, ${member})`, `offsetof(${type}, ${member})`, offset]);
    }
  }
  const prefixed = (prefix: string, table: Record<string, number>): void => {
    for (const [name, value] of Object.entries(table)) rows.push([`${prefix}${name}`, `${prefix}${name}`, value]);
  };
  prefixed('KVM_', IOCTL);
  prefixed('KVM_CAP_', Cap);
  prefixed('KVM_EXIT_', Object.fromEntries(Object.entries(ExitReason).filter(([name]) => name !== 'INTERRUPTED')));
  prefixed('KVM_SYSTEM_EVENT_', SystemEvent);
  prefixed('KVM_MP_STATE_', MpState);
  prefixed('KVM_MEM_', MemFlags);
  prefixed('KVM_', {
    API_VERSION: abi.KVM_API_VERSION,
    IOEVENTFD_FLAG_DATAMATCH: abi.IOEVENTFD_FLAG_DATAMATCH,
    IOEVENTFD_FLAG_PIO: abi.IOEVENTFD_FLAG_PIO,
    IOEVENTFD_FLAG_DEASSIGN: abi.IOEVENTFD_FLAG_DEASSIGN,
    IRQFD_FLAG_DEASSIGN: abi.IRQFD_FLAG_DEASSIGN,
    IRQFD_FLAG_RESAMPLE: abi.IRQFD_FLAG_RESAMPLE,
    IRQ_ROUTING_IRQCHIP: abi.IRQ_ROUTING_IRQCHIP,
    IRQ_ROUTING_MSI: abi.IRQ_ROUTING_MSI,
    PIT_SPEAKER_DUMMY: abi.PIT_SPEAKER_DUMMY,
  });
  prefixed('', {
    O_RDWR: libc.O_RDWR, O_CLOEXEC: libc.O_CLOEXEC, PROT_READ: libc.PROT_READ, PROT_WRITE: libc.PROT_WRITE,
    MAP_SHARED: libc.MAP_SHARED, MAP_NORESERVE: libc.MAP_NORESERVE, MFD_CLOEXEC: libc.MFD_CLOEXEC,
    EINTR: libc.EINTR, EAGAIN: libc.EAGAIN, SIGUSR2: KICK_SIGNAL,
  });
  return rows;
}

const HEADER = '/usr/include/linux/kvm.h';
const compiler = ['gcc', 'cc'].find((cc) => {
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
const skipReason = !existsSync(HEADER) ? `${HEADER} is absent (install linux-libc-dev)` : !compiler ? 'no C compiler' : null;

/** Compiles and runs a C program printing every expression of `rows`; returns the values. */
function measure(rows: [string, string, number][]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-layout-'));
  try {
    const source = [
      '#define _GNU_SOURCE',
      '#include <stddef.h>', '#include <stdio.h>', '#include <errno.h>', '#include <fcntl.h>', '#include <poll.h>',
      '#include <signal.h>', '#include <sys/mman.h>', '#include <linux/kvm.h>',
      'int main(void) {',
      ...rows.map(([, expr]) => `  printf("%llu\\n", (unsigned long long)(${expr}));`),
      '  return 0;', '}',
    ].join('\n');
    writeFileSync(join(dir, 'layout.c'), source);
    execFileSync(compiler!, ['-o', join(dir, 'layout'), join(dir, 'layout.c')], { stdio: 'pipe' });
    return execFileSync(join(dir, 'layout'), { encoding: 'utf8' }).trim().split('\n').map(Number);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ABI tables', () => {
  it.skipIf(skipReason !== null)(`match the installed kernel headers${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
    const rows = expectations();
    const values = measure(rows);
    const mismatches = rows.filter((row, i) => values[i] !== row[2]).map(([name, , ours]) => `${name}: ours ${ours}`);
    expect(mismatches, mismatches.join('\n')).toEqual([]);
    expect(values).toHaveLength(rows.length);
  });

  it('match the layouts and numbers measured in kvm-from-node.md', () => {
    expect(IOCTL).toMatchObject({
      CREATE_VM: 0xae01, GET_VCPU_MMAP_SIZE: 0xae04, CREATE_VCPU: 0xae41, SET_USER_MEMORY_REGION: 0x4020ae46,
      CREATE_IRQCHIP: 0xae60, IRQFD: 0x4020ae76, IOEVENTFD: 0x4040ae79, RUN: 0xae80,
      GET_REGS: 0x8090ae81, SET_REGS: 0x4090ae82, GET_SREGS: 0x8138ae83, SET_SREGS: 0x4138ae84,
    });
    expect(ExitReason).toMatchObject({ IO: 2, HLT: 5, MMIO: 6, SHUTDOWN: 8, FAIL_ENTRY: 9, INTR: 10, INTERNAL_ERROR: 17 });
    expect(LAYOUTS.kvm_userspace_memory_region).toEqual({
      size: 32, fields: { slot: 0, flags: 4, guest_phys_addr: 8, memory_size: 16, userspace_addr: 24 },
    });
    expect(LAYOUTS.kvm_run.fields).toMatchObject({
      request_interrupt_window: 0, immediate_exit: 1, exit_reason: 8,
      'io.direction': 32, 'io.size': 33, 'io.port': 34, 'io.count': 36, 'io.data_offset': 40,
      'mmio.phys_addr': 32, 'mmio.data': 40, 'mmio.len': 48, 'mmio.is_write': 52,
    });
    expect(LAYOUTS.kvm_regs.size).toBe(144);
    expect(LAYOUTS.kvm_regs.fields).toMatchObject({ rax: 0, r8: 64, rip: 128, rflags: 136 });
    expect(LAYOUTS.kvm_sregs.size).toBe(312);
    expect(LAYOUTS.kvm_sregs.fields).toMatchObject({
      'cs.base': 0, 'ldt.base': 168, 'gdt.base': 192, 'idt.base': 208,
      cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264, apic_base: 272,
    });
    expect(LAYOUTS.kvm_ioeventfd).toEqual({ size: 64, fields: { datamatch: 0, addr: 8, len: 16, fd: 20, flags: 24 } });
    expect(LAYOUTS.kvm_irqfd).toEqual({ size: 32, fields: { fd: 0, gsi: 4, flags: 8, resamplefd: 12 } });
    expect([abi.IOEVENTFD_FLAG_DATAMATCH, abi.IOEVENTFD_FLAG_PIO, abi.IOEVENTFD_FLAG_DEASSIGN]).toEqual([1, 2, 4]);
  });
});
