// The TAP reader thread, as source text: it blocks in poll(2) on the TAP descriptor and an
// eventfd (written to stop it), reads frames into slots of a SharedArrayBuffer ring and wakes
// the main thread through Atomics. When the ring is full (the main thread stopped consuming:
// back-pressure) it waits, and the kernel keeps further frames in the TAP device's queue.
// Plain CommonJS so it runs the same from TypeScript sources and from the built package.

/** Ring control words (Int32 indices into the shared buffer). */
export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_STOP = 2;
/** Set by the worker when it stopped on an error; the errno is in RING_ERRNO. */
export const RING_FAILED = 3;
export const RING_ERRNO = 4;
/** Int32 words before the slot lengths. */
export const RING_CONTROL_WORDS = 8;

export const READER_SOURCE = `
const { workerData } = require('node:worker_threads');
const koffi = require(workerData.koffi);
const libc = koffi.load('libc.so.6');
const read = libc.func('int64_t read(int fd, void *buf, size_t count)');
const poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
const { fd, efd, sab, slots, slotSize, dataOffset } = workerData;
const ctrl = new Int32Array(sab, 0, ${RING_CONTROL_WORDS});
const lens = new Int32Array(sab, ${RING_CONTROL_WORDS * 4}, slots);
const views = [];
for (let i = 0; i < slots; i++) views.push(new Uint8Array(sab, dataOffset + i * slotSize, slotSize));
const pfd = new Uint8Array(16);
const dv = new DataView(pfd.buffer);
dv.setInt32(0, fd, true);
dv.setInt16(4, 1, true);
dv.setInt32(8, efd, true);
dv.setInt16(12, 1, true);
const EAGAIN = 11, EINTR = 4;
for (;;) {
  if (Atomics.load(ctrl, ${RING_STOP})) break;
  const head = Atomics.load(ctrl, ${RING_HEAD});
  const tail = Atomics.load(ctrl, ${RING_TAIL});
  if (((head - tail) | 0) >= slots) {
    Atomics.wait(ctrl, ${RING_TAIL}, tail);
    continue;
  }
  const s = head & (slots - 1);
  const n = read(fd, views[s], slotSize);
  if (n > 0) {
    lens[s] = n;
    Atomics.store(ctrl, ${RING_HEAD}, (head + 1) | 0);
    Atomics.notify(ctrl, ${RING_HEAD});
    continue;
  }
  const err = n < 0 ? koffi.errno() : 0;
  if (n < 0 && err === EINTR) continue;
  if (n < 0 && err !== EAGAIN) {
    Atomics.store(ctrl, ${RING_ERRNO}, err);
    Atomics.store(ctrl, ${RING_FAILED}, 1);
    Atomics.notify(ctrl, ${RING_HEAD});
    break;
  }
  dv.setInt16(6, 0, true);
  dv.setInt16(14, 0, true);
  poll(pfd, 2, -1);
  if (dv.getInt16(14, true) !== 0) break;
}
`;
