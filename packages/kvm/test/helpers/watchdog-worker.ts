// Watchdog thread: kicks a vCPU (KVM_RUN on another thread) unless cancelled within `ms`.
import { parentPort, workerData } from 'node:worker_threads';
import { kick } from '../../src/index.js';

const { thread, runAddress, ms, control } = workerData.data as {
  thread: bigint;
  runAddress: bigint;
  ms: number;
  control: SharedArrayBuffer;
};
const word = new Int32Array(control);
parentPort!.postMessage('ready');
if (Atomics.wait(word, 0, 0, ms) === 'timed-out') {
  kick(thread, runAddress);
  parentPort!.postMessage('kicked');
} else {
  parentPort!.postMessage('cancelled');
}
