/**
 * The synchronous request channel between a vCPU worker and the device model on the main
 * thread: a SharedArrayBuffer with control words and a data area, plus a doorbell word that
 * all channels of a machine share. The worker posts one port I/O or MMIO access, rings the
 * doorbell and blocks (spinning briefly, then Atomics.wait) until the main thread has
 * handled it; the main thread serves in time slices (see `serveSlice`) between which its
 * event loop runs the console and signals.
 */
export const CH = {
  STATE: 0,
  KIND: 1,
  ADDR_LO: 2,
  ADDR_HI: 3,
  SIZE: 4,
  COUNT: 5,
  IS_WRITE: 6,
  STOP: 7,
} as const;
/** STATE values. */
export const IDLE = 0;
export const REQUEST = 1;
export const DONE = 2;
/** KIND values. */
export const KIND_IO = 1;
export const KIND_MMIO = 2;
export const DATA_OFFSET = 64;
/** Bytes of access data one request carries (string I/O: size * count). */
export const DATA_SIZE = 4096;

/** One access as the device model sees it; `data` holds size * count bytes, little-endian. */
export interface Access {
  readonly kind: number;
  readonly addr: number;
  readonly size: number;
  readonly count: number;
  readonly isWrite: boolean;
  readonly data: Uint8Array;
}

/** A channel's views over its SharedArrayBuffer (make one on each side from the same buffer). */
export class Channel {
  readonly sab: SharedArrayBuffer;
  readonly doorbellSab: SharedArrayBuffer;
  readonly ctl: Int32Array;
  readonly data: Uint8Array;
  readonly #doorbell: Int32Array;

  /** A new channel ringing `doorbell` (one per machine), or a view of an existing one. */
  constructor(doorbell: SharedArrayBuffer, sab = new SharedArrayBuffer(DATA_OFFSET + DATA_SIZE)) {
    this.sab = sab;
    this.doorbellSab = doorbell;
    this.ctl = new Int32Array(sab, 0, DATA_OFFSET / 4);
    this.data = new Uint8Array(sab, DATA_OFFSET, DATA_SIZE);
    this.#doorbell = new Int32Array(doorbell, 0, 1);
  }

  /** A fresh doorbell for the channels of one machine. */
  static doorbell(): SharedArrayBuffer {
    return new SharedArrayBuffer(4);
  }

  /** Worker side: true once the main thread asked this vCPU to stop. */
  get stopRequested(): boolean {
    return Atomics.load(this.ctl, CH.STOP) !== 0;
  }

  /** Main side: asks the worker to stop and releases it if it waits on a request. */
  requestStop(): void {
    Atomics.store(this.ctl, CH.STOP, 1);
    Atomics.notify(this.ctl, CH.STATE);
  }

  /**
   * Worker side: posts an access whose data is already in `data` (writes) and blocks until
   * the main thread completes it (reads: the result is then in `data`). Returns false if
   * the VMM is stopping instead.
   */
  call(kind: number, addr: number, size: number, count: number, isWrite: boolean): boolean {
    const ctl = this.ctl;
    ctl[CH.KIND] = kind;
    ctl[CH.ADDR_LO] = addr | 0;
    ctl[CH.ADDR_HI] = Math.floor(addr / 2 ** 32);
    ctl[CH.SIZE] = size;
    ctl[CH.COUNT] = count;
    ctl[CH.IS_WRITE] = isWrite ? 1 : 0;
    Atomics.store(ctl, CH.STATE, REQUEST);
    Atomics.add(this.#doorbell, 0, 1);
    Atomics.notify(this.#doorbell, 0);
    for (let spin = 0; spin < SPIN && Atomics.load(ctl, CH.STATE) === REQUEST; spin++);
    while (Atomics.load(ctl, CH.STATE) === REQUEST) {
      if (this.stopRequested) return false;
      Atomics.wait(ctl, CH.STATE, REQUEST, 1000);
    }
    Atomics.store(ctl, CH.STATE, IDLE);
    return true;
  }

  /** Main side: the pending request. */
  access(): Access {
    const c = this.ctl;
    const size = c[CH.SIZE];
    const count = c[CH.COUNT];
    return {
      kind: c[CH.KIND],
      addr: (c[CH.ADDR_LO] >>> 0) + c[CH.ADDR_HI] * 2 ** 32,
      size,
      count,
      isWrite: c[CH.IS_WRITE] !== 0,
      data: this.data.subarray(0, Math.min(DATA_SIZE, size * count)),
    };
  }

  /** Main side: marks the request handled and wakes the worker. */
  complete(): void {
    Atomics.store(this.ctl, CH.STATE, DONE);
    Atomics.notify(this.ctl, CH.STATE);
  }

  /** Main side: true while a request waits. */
  get pending(): boolean {
    return Atomics.load(this.ctl, CH.STATE) === REQUEST;
  }
}

/** Polls before sleeping: a request usually follows a reply within microseconds. */
const SPIN = 2000;

/**
 * Main side: serves the requests of `channels` (all on one doorbell) with `handle` for up
 * to `sliceMs` milliseconds, sleeping on the doorbell while none is pending, and returns so
 * the caller's event loop can run. Returns the number of requests served.
 */
export function serveSlice(channels: readonly Channel[], handle: (a: Access) => void, sliceMs: number): number {
  if (channels.length === 0) return 0;
  const doorbell = new Int32Array(channels[0].doorbellSab, 0, 1);
  const end = performance.now() + sliceMs;
  let served = 0;
  for (;;) {
    const ring = Atomics.load(doorbell, 0);
    let any = false;
    for (const c of channels) {
      if (!c.pending || c.stopRequested) continue;
      handle(c.access());
      c.complete();
      served++;
      any = true;
    }
    if (any) continue;
    for (let spin = 0; spin < SPIN && Atomics.load(doorbell, 0) === ring; spin++);
    const left = end - performance.now();
    if (left <= 0) return served;
    if (Atomics.load(doorbell, 0) === ring) Atomics.wait(doorbell, 0, ring, left);
  }
}
