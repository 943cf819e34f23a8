// Stopping a vCPU thread blocked in KVM_RUN: immediate_exit + a signal whose handler is C code.
// A JS signal callback cannot run while the thread is inside KVM_RUN, and SIG_IGN does not
// interrupt the ioctl; a do-nothing C function (libc's getpid) as handler, installed without
// SA_RESTART, makes KVM_RUN return EINTR (kvm-from-node.md, "Stopping a vCPU").
import { KvmError } from '../sys/errors.js';
import * as libc from '../sys/libc.js';
import { offsetOf, setU64, SIZES } from '../abi/structs.js';
import { check } from '../sys/calls.js';

/** The signal {@link kick} sends (SIGUSR2). Do not install a JS listener for it. */
export const KICK_SIGNAL = 12;

let installed = false;

/**
 * Installs, once per process (idempotent, any thread), a do-nothing C handler for SIGUSR2 without
 * SA_RESTART. {@link kick} calls it; call it yourself before a vCPU thread starts if you prefer.
 * @throws KvmError when dlsym or sigaction fails.
 */
export function installKickHandler(): void {
  if (installed) return;
  const handler = libc.dlsym(null, 'getpid');
  if (handler === null || handler === 0n) throw new KvmError('dlsym getpid', 2 /* ENOENT */, 'no C function to use as signal handler');
  const act = new Uint8Array(SIZES.sigaction);
  const dv = new DataView(act.buffer);
  setU64(dv, offsetOf('sigaction', 'sa_handler'), handler);
  // sa_mask empty, sa_flags 0 (no SA_RESTART: the interrupted ioctl returns EINTR).
  check('sigaction SIGUSR2', libc.sigaction(KICK_SIGNAL, act, null));
  installed = true;
}

/** The calling thread's pthread_t, for another thread to {@link kick} it. */
export function currentThread(): bigint {
  return libc.pthreadSelf();
}

const IMMEDIATE_EXIT = offsetOf('kvm_run', 'immediate_exit');

/**
 * Makes the vCPU whose kvm_run is mapped at `runAddress` (see {@link Vcpu.runAddress}) leave
 * KVM_RUN, from any thread: sets kvm_run.immediate_exit = 1 (so a KVM_RUN entered later returns at
 * once), then sends SIGUSR2 to `thread` (a {@link currentThread} value of the vCPU's thread). The
 * vCPU's {@link Vcpu.run} then returns an exit of kind 'interrupted'. Check your own stop flag
 * before calling run() again. Only kick a thread that is still alive (before its worker's 'exit'
 * event) and a vCPU whose kvm_run is still mapped: both are raw addresses, not checked here.
 * @throws KvmError when pthread_kill fails (ESRCH for a thread that has ended).
 */
export function kick(thread: bigint, runAddress: bigint): void {
  installKickHandler();
  Atomics.store(new Uint8Array(libc.view(runAddress + BigInt(IMMEDIATE_EXIT), 1)), 0, 1);
  const error = libc.pthreadKill(thread, KICK_SIGNAL);
  if (error !== 0) throw new KvmError('pthread_kill', error);
}
