/**
 * Pending queue notifications shared between the ioeventfd poller thread and the device
 * thread: word 0 counts wake-ups (the device thread waits on it), word 1 + d holds device d's
 * notified queues as a bit mask (queues 0-31).
 */
export class NotifySet {
  readonly sab: SharedArrayBuffer;
  readonly #i32: Int32Array;

  constructor(devicesOrSab: number | SharedArrayBuffer) {
    this.sab = typeof devicesOrSab === 'number' ? new SharedArrayBuffer((1 + devicesOrSab) * 4) : devicesOrSab;
    this.#i32 = new Int32Array(this.sab);
  }

  /** Poller side: marks queue `queue` of device `dev` notified. Call wake() after a batch. */
  mark(dev: number, queue: number): void {
    Atomics.or(this.#i32, 1 + dev, 1 << queue);
  }

  /** Poller side: wakes the device thread. */
  wake(): void {
    Atomics.add(this.#i32, 0, 1);
    Atomics.notify(this.#i32, 0);
  }

  /** Device side: takes device `dev`'s pending queue mask (and clears it). */
  take(dev: number): number {
    return Atomics.exchange(this.#i32, 1 + dev, 0);
  }

  /** Device side: resolves after the next wake() following `seen` (the wake count last seen); returns the new count. */
  async next(seen: number): Promise<number> {
    const w = Atomics.waitAsync(this.#i32, 0, seen);
    if (w.async) await w.value;
    return Atomics.load(this.#i32, 0);
  }

  /** The current wake count. */
  get count(): number {
    return Atomics.load(this.#i32, 0);
  }
}
