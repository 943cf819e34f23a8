// Stopping a vCPU thread blocked in KVM_RUN: kick() = immediate_exit + SIGUSR2 with a C handler.
import { afterEach, expect, it } from 'vitest';
import { currentThread, kick } from '../src/index.js';
import { asm, describeKvm, realModeGuest, type Guest } from './helpers/guest.js';
import { startWorker, type TestWorker } from './helpers/workers.js';

interface Started { thread: bigint; runAddress: bigint }
interface Outcome { kind: string; exits: number; immediateExit: boolean }

let guest: Guest | null = null;
let worker: TestWorker | null = null;
afterEach(async () => {
  await worker?.worker.terminate();
  worker = null;
  guest?.close();
  guest = null;
});

/** A `jmp $` guest whose vCPU a worker thread runs; returns the worker and its start message. */
async function spinningGuestInWorker(control: SharedArrayBuffer): Promise<Started> {
  guest = realModeGuest(asm.jmpSelf);
  worker = startWorker('./vcpu-worker.ts', { fd: guest.vcpu.fd, mmapSize: guest.vcpu.mmapSize, control });
  return worker.next<Started>(10_000);
}

const go = (control: SharedArrayBuffer): void => {
  const word = new Int32Array(control);
  Atomics.store(word, 0, 1);
  Atomics.notify(word, 0);
};

describeKvm('kick', () => {
  it('returns the calling thread as a pthread_t bigint', () => {
    expect(typeof currentThread()).toBe('bigint');
    expect(currentThread()).toBe(currentThread());
  });

  it('stops a worker spinning in KVM_RUN (`jmp $`): run() returns an interrupted exit', async () => {
    const control = new SharedArrayBuffer(4);
    const started = await spinningGuestInWorker(control);
    go(control);
    // Give the worker time to enter KVM_RUN; the outcome does not depend on it (immediate_exit).
    await new Promise((resolve) => setTimeout(resolve, 50));
    kick(started.thread, started.runAddress);
    const outcome = await worker!.next<Outcome>(10_000);
    expect(outcome).toEqual({ kind: 'interrupted', exits: 0, immediateExit: false });
  });

  it('stops a vCPU kicked before it entered KVM_RUN (immediate_exit), through Vcpu.kick', async () => {
    const control = new SharedArrayBuffer(4);
    const started = await spinningGuestInWorker(control);
    guest!.vcpu.kick(started.thread); // the main thread's own mapping of the same kvm_run
    expect(guest!.vcpu.immediateExit).toBe(true);
    go(control);
    const outcome = await worker!.next<Outcome>(10_000);
    expect(outcome).toEqual({ kind: 'interrupted', exits: 0, immediateExit: false });
  });

  it('sets immediate_exit so that the next run() returns at once on this thread', () => {
    guest = realModeGuest(asm.jmpSelf);
    guest.vcpu.immediateExit = true;
    expect(guest.vcpu.run().kind).toBe('interrupted');
    expect(guest.vcpu.immediateExit).toBe(false);
  });
});
