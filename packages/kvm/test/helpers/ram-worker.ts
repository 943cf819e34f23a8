// Worker: views guest RAM allocated by the main thread, reads byte 0x10 and writes byte 0x11.
import { parentPort, workerData } from 'node:worker_threads';
import { GuestRam } from '../../src/index.js';

const { hostAddress, size } = workerData.data as { hostAddress: bigint; size: number };
const ram = GuestRam.fromAddress(hostAddress, size);
const bytes = ram.bytes();
bytes[0x11] = bytes[0x10] + 1;
parentPort!.postMessage(bytes[0x10]);
