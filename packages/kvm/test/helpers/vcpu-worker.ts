// Worker: runs a vCPU created on the main thread until KVM_RUN is interrupted.
// Protocol: posts { thread, runAddress }, waits until control[0] != 0, runs, posts the outcome.
import { parentPort, workerData } from 'node:worker_threads';
import { currentThread, Vcpu } from '../../src/index.js';

const { fd, mmapSize, control } = workerData.data as { fd: number; mmapSize: number; control: SharedArrayBuffer };
const go = new Int32Array(control);
const vcpu = new Vcpu(fd, mmapSize);
parentPort!.postMessage({ thread: currentThread(), runAddress: vcpu.runAddress });
Atomics.wait(go, 0, 0);
let exits = 0;
let exit = vcpu.run();
while (exit.kind !== 'interrupted' && exits < 1000) {
  exits++;
  exit = vcpu.run();
}
parentPort!.postMessage({ kind: exit.kind, exits, immediateExit: vcpu.immediateExit });
vcpu.close(true);
