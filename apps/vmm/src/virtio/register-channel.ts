/**
 * The synchronous register-access channel from the thread that takes guest accesses (the main
 * thread, serving the vCPUs) to the device thread that owns the virtio transports. Register
 * accesses are low-rate (set-up, interrupt status, configuration space): the caller blocks in
 * Atomics.wait until the device thread, which serves requests from its event loop
 * (Atomics.waitAsync), has answered. Queue notifications do not come here (ioeventfds).
 */

/** Operations. MMIO_*: offset in the device's window; PCI_*: configuration space or BAR `bar`. */
export const RegOp = {
  MmioRead: 1,
  MmioWrite: 2,
  PciConfigRead: 3,
  PciConfigWrite: 4,
  PciBarRead: 5,
  PciBarWrite: 6,
  /** The guest-physical base of BAR `bar` (0 when unassigned), to place ioeventfds. */
  PciBarAddress: 7,
} as const;
export type RegOp = (typeof RegOp)[keyof typeof RegOp];

const SEQ = 0;
const DONE = 1;
const OP = 2;
const DEV = 3;
const BAR = 4;
const OFFSET = 5;
const WIDTH = 6;
const VALUE = 7;
const RESULT = 8;
const WORDS = 9;

/** One register request as the device thread sees it. */
export interface RegRequest {
  readonly op: RegOp;
  readonly dev: number;
  readonly bar: number;
  readonly offset: number;
  readonly width: number;
  readonly value: number;
}

/** The caller's side (one calling thread). */
export class RegisterClient {
  readonly sab = new SharedArrayBuffer(WORDS * 4);
  readonly #i32 = new Int32Array(this.sab);
  readonly #u32 = new Uint32Array(this.sab);

  /** Sends one request and blocks until it is answered; returns the result (u32). */
  call(op: RegOp, dev: number, bar: number, offset: number, width: number, value = 0): number {
    const i32 = this.#i32;
    i32[OP] = op;
    i32[DEV] = dev;
    i32[BAR] = bar;
    i32[OFFSET] = offset;
    i32[WIDTH] = width;
    this.#u32[VALUE] = value >>> 0;
    const seq = (Atomics.add(i32, SEQ, 1) + 1) | 0;
    Atomics.notify(i32, SEQ);
    for (let done = Atomics.load(i32, DONE); done !== seq; done = Atomics.load(i32, DONE)) Atomics.wait(i32, DONE, done);
    return this.#u32[RESULT];
  }
}

/**
 * Serves requests on the device thread from its event loop until `stopped()`; `handle`
 * returns the result of reads (ignored for writes) and must not throw.
 */
export async function serveRegisters(sab: SharedArrayBuffer, handle: (r: RegRequest) => number): Promise<void> {
  const i32 = new Int32Array(sab);
  const u32 = new Uint32Array(sab);
  let served = Atomics.load(i32, SEQ);
  const request = { op: 0, dev: 0, bar: 0, offset: 0, width: 0, value: 0 };
  for (;;) {
    const seq = Atomics.load(i32, SEQ);
    if (seq === served) {
      const w = Atomics.waitAsync(i32, SEQ, seq);
      if (w.async) await w.value;
      continue;
    }
    request.op = i32[OP];
    request.dev = i32[DEV];
    request.bar = i32[BAR];
    request.offset = i32[OFFSET];
    request.width = i32[WIDTH];
    request.value = u32[VALUE];
    u32[RESULT] = handle(request as RegRequest) >>> 0;
    served = seq;
    Atomics.store(i32, DONE, seq);
    Atomics.notify(i32, DONE);
  }
}
