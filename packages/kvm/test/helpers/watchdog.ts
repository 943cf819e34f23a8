// Bounds a guest run on the test's own thread: a watchdog worker kicks the vCPU after `ms`.
import { currentThread, type Vcpu } from '../../src/index.js';
import { startWorker } from './workers.js';

export interface Watchdog {
  /** Stops the watchdog; resolves to true when it had to kick the vCPU. */
  stop(): Promise<boolean>;
}

/** Starts a watchdog for `vcpu`, which this thread is about to run. */
export async function watchdog(vcpu: Vcpu, ms: number): Promise<Watchdog> {
  const control = new SharedArrayBuffer(4);
  const dog = startWorker('./watchdog-worker.ts', { thread: currentThread(), runAddress: vcpu.runAddress, ms, control });
  await dog.next<string>(10_000);
  return {
    async stop() {
      const word = new Int32Array(control);
      Atomics.store(word, 0, 1);
      Atomics.notify(word, 0);
      const outcome = await dog.next<string>(10_000);
      await dog.worker.terminate();
      return outcome === 'kicked';
    },
  };
}
