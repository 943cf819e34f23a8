// One virtual CPU: its fd, its kvm_run mapping, the run loop primitive and register access.
import { IOCTL, MpState } from '../abi/numbers.js';
import { KvmError } from '../sys/errors.js';
import { VcpuExit } from './exit.js';
import * as libc from '../sys/libc.js';
import {
  decodeFpu, decodeMsrs, decodeRegs, decodeSregs, encodeCpuid, encodeFpu, encodeMsrs, encodeRegs, encodeSregs,
  type CpuidEntry, type KvmFpu, type KvmRegs, type KvmSregs, type MsrEntry,
} from './registers.js';
import { kick } from './kick.js';
import { LAYOUTS, offsetOf } from '../abi/structs.js';
import { closeFd, ioctlBuffer, mapShared } from '../sys/calls.js';

const IMMEDIATE_EXIT = offsetOf('kvm_run', 'immediate_exit');
const SCRATCH = Math.max(LAYOUTS.kvm_regs.size, LAYOUTS.kvm_sregs.size, LAYOUTS.kvm_fpu.size, LAYOUTS.kvm_lapic_state.size);

const closedError = (what: string): KvmError => new KvmError(what, 9 /* EBADF */, 'the vCPU is closed (kvm_run unmapped)');

/**
 * A vCPU (KVM_CREATE_VCPU fd) with its kvm_run structure mapped into this thread. Build it in the
 * thread that runs it: the fd may come from another thread (e.g. through workerData) — the vCPU
 * fd is process-wide, the mapping is made here. Not thread-safe: one thread calls run().
 */
export class Vcpu {
  /** The vCPU file descriptor. */
  readonly fd: number;
  /** Size of the kvm_run mapping in bytes (KVM_GET_VCPU_MMAP_SIZE). */
  readonly mmapSize: number;
  /** Host address of kvm_run, for {@link kick} from another thread. */
  readonly runAddress: bigint;
  /** The whole kvm_run mapping (port I/O data lives inside it at io.data_offset). */
  readonly kvmRun: Uint8Array;
  /** The exit decoded by the last {@link run}; the same object every time. */
  readonly exit: VcpuExit;
  #scratch = new Uint8Array(SCRATCH);
  #dv = new DataView(this.#scratch.buffer);
  #closed = false;

  /**
   * Maps kvm_run of vCPU `fd`. `mmapSize` is {@link Kvm.vcpuMmapSize}.
   * @throws RangeError for a bad size; KvmError when mmap fails (EBADF: not a vCPU fd).
   */
  constructor(fd: number, mmapSize: number) {
    if (!Number.isSafeInteger(mmapSize) || mmapSize < 4096) throw new RangeError(`vCPU mmap size ${mmapSize} is too small`);
    this.fd = fd;
    this.mmapSize = mmapSize;
    this.runAddress = mapShared('mmap kvm_run', fd, mmapSize);
    this.kvmRun = new Uint8Array(libc.view(this.runAddress, mmapSize));
    this.exit = new VcpuExit(this.kvmRun);
  }

  /**
   * KVM_RUN: runs the guest until it needs userspace; returns the decoded exit (reused object).
   * EINTR (a {@link kick} or other signal) yields kind 'interrupted' and clears immediate_exit.
   * Complete an `in` / MMIO read through `exit.io.complete` / `exit.mmio.complete` before the
   * next run().
   * @throws KvmError for any other KVM_RUN failure (e.g. EFAULT, ENOEXEC for an invalid state),
   *   and EBADF after close().
   */
  run(): VcpuExit {
    if (this.#closed) throw closedError('KVM_RUN');
    if (libc.ioctlValue(this.fd, IOCTL.RUN, 0) < 0) {
      const errno = libc.errno();
      if (errno !== libc.EINTR) throw new KvmError('KVM_RUN', errno);
      Atomics.store(this.kvmRun, IMMEDIATE_EXIT, 0);
      return this.exit.interrupted();
    }
    return this.exit.decode();
  }

  /** kvm_run.immediate_exit: when set, KVM_RUN returns EINTR at once. */
  get immediateExit(): boolean {
    if (this.#closed) throw closedError('kvm_run.immediate_exit');
    return Atomics.load(this.kvmRun, IMMEDIATE_EXIT) !== 0;
  }

  set immediateExit(value: boolean) {
    if (this.#closed) throw closedError('kvm_run.immediate_exit');
    Atomics.store(this.kvmRun, IMMEDIATE_EXIT, value ? 1 : 0);
  }

  /** Stops this vCPU's KVM_RUN running on `thread` (its {@link currentThread}); see {@link kick}. */
  kick(thread: bigint): void {
    if (this.#closed) throw closedError('kick');
    kick(thread, this.runAddress);
  }

  /** KVM_GET_REGS. */
  getRegs(): KvmRegs {
    ioctlBuffer(this.fd, 'KVM_GET_REGS', IOCTL.GET_REGS, this.#scratch);
    return decodeRegs(this.#dv);
  }

  /** KVM_SET_REGS. @throws TypeError when a field is missing. */
  setRegs(regs: KvmRegs): void {
    encodeRegs(this.#dv, regs);
    ioctlBuffer(this.fd, 'KVM_SET_REGS', IOCTL.SET_REGS, this.#scratch);
  }

  /** KVM_GET_SREGS. */
  getSregs(): KvmSregs {
    ioctlBuffer(this.fd, 'KVM_GET_SREGS', IOCTL.GET_SREGS, this.#scratch);
    return decodeSregs(this.#dv);
  }

  /** KVM_SET_SREGS (usually after getSregs() and editing). @throws KvmError (EINVAL) for a state KVM rejects. */
  setSregs(sregs: KvmSregs): void {
    this.#scratch.fill(0);
    encodeSregs(this.#dv, sregs);
    ioctlBuffer(this.fd, 'KVM_SET_SREGS', IOCTL.SET_SREGS, this.#scratch);
  }

  /** KVM_GET_FPU. */
  getFpu(): KvmFpu {
    ioctlBuffer(this.fd, 'KVM_GET_FPU', IOCTL.GET_FPU, this.#scratch);
    return decodeFpu(this.#scratch, this.#dv);
  }

  /** KVM_SET_FPU. */
  setFpu(fpu: KvmFpu): void {
    encodeFpu(this.#scratch, this.#dv, fpu);
    ioctlBuffer(this.fd, 'KVM_SET_FPU', IOCTL.SET_FPU, this.#scratch);
  }

  /**
   * KVM_GET_MSRS for the given MSR indices; returns the MSRs KVM read, in order (it stops at the
   * first one it does not know, so the result may be shorter).
   */
  getMsrs(indices: readonly number[]): MsrEntry[] {
    const bytes = encodeMsrs(indices.map((index) => ({ index, data: 0n })));
    const count = ioctlBuffer(this.fd, 'KVM_GET_MSRS', IOCTL.GET_MSRS, bytes);
    return decodeMsrs(bytes, Math.min(count, indices.length));
  }

  /** KVM_SET_MSRS. @throws KvmError (EINVAL) when KVM accepted only part of them. */
  setMsrs(entries: readonly MsrEntry[]): void {
    const count = ioctlBuffer(this.fd, 'KVM_SET_MSRS', IOCTL.SET_MSRS, encodeMsrs(entries));
    if (count !== entries.length) {
      throw new KvmError('KVM_SET_MSRS', 22, `MSR 0x${entries[count]?.index.toString(16)} rejected (${count} of ${entries.length} set)`);
    }
  }

  /** KVM_SET_CPUID2: the CPUID leaves the guest sees (typically from {@link Kvm.supportedCpuid}). */
  setCpuid2(entries: readonly CpuidEntry[]): void {
    ioctlBuffer(this.fd, 'KVM_SET_CPUID2', IOCTL.SET_CPUID2, encodeCpuid(entries));
  }

  /** KVM_GET_LAPIC: a copy of the local APIC's 1024-byte register page (needs the in-kernel irqchip). */
  getLapic(): Uint8Array {
    ioctlBuffer(this.fd, 'KVM_GET_LAPIC', IOCTL.GET_LAPIC, this.#scratch);
    return this.#scratch.slice(0, LAYOUTS.kvm_lapic_state.size);
  }

  /** KVM_SET_LAPIC from a 1024-byte register page. @throws RangeError for another length. */
  setLapic(lapic: Uint8Array): void {
    if (lapic.byteLength !== LAYOUTS.kvm_lapic_state.size) throw new RangeError('kvm_lapic_state is 1024 bytes');
    this.#scratch.set(lapic);
    ioctlBuffer(this.fd, 'KVM_SET_LAPIC', IOCTL.SET_LAPIC, this.#scratch);
  }

  /** KVM_GET_MP_STATE (a {@link MpState} value). */
  getMpState(): number {
    ioctlBuffer(this.fd, 'KVM_GET_MP_STATE', IOCTL.GET_MP_STATE, this.#scratch);
    return this.#dv.getUint32(0, true);
  }

  /** KVM_SET_MP_STATE (a {@link MpState} value, e.g. MpState.RUNNABLE). */
  setMpState(state: (typeof MpState)[keyof typeof MpState]): void {
    this.#dv.setUint32(0, state, true);
    ioctlBuffer(this.fd, 'KVM_SET_MP_STATE', IOCTL.SET_MP_STATE, this.#scratch);
  }

  /** Unmaps kvm_run; closes the vCPU fd too unless `keepFd`. Idempotent. Views of kvm_run die. */
  close(keepFd = false): void {
    if (this.#closed) return;
    this.#closed = true;
    libc.munmap(this.runAddress, this.mmapSize);
    if (!keepFd) closeFd(this.fd);
  }
}

