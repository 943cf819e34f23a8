// eventfd(2) counters for ioeventfd / irqfd, and poll(2) over several of them.
import { KvmError } from './errors.js';
import * as libc from './libc.js';
import { LAYOUTS, offsetOf } from '../abi/structs.js';
import { check, closeFd } from './calls.js';

const EFD_SEMAPHORE = 1;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const POLLIN = 1;

/** Options of {@link EventFd.create}. */
export interface EventFdOptions {
  /** O_NONBLOCK: read() throws EAGAIN instead of blocking on a zero counter. */
  nonBlocking?: boolean;
  /** EFD_SEMAPHORE: each read returns 1 and decrements the counter by 1. */
  semaphore?: boolean;
  /** Initial counter value (default 0). */
  initial?: number;
}

/**
 * An eventfd: a 64-bit kernel counter. KVM writes it (ioeventfd) or reads it (irqfd). The fd is
 * process-wide: pass `fd` to a worker and wrap it there with `new EventFd(fd)`.
 */
export class EventFd {
  /** The eventfd file descriptor. */
  readonly fd: number;
  #buffer = new Uint8Array(8);
  #dv = new DataView(this.#buffer.buffer);
  #pollfd = new Uint8Array(LAYOUTS.pollfd.size);

  /** Wraps an existing eventfd (e.g. one created on another thread). */
  constructor(fd: number) {
    this.fd = fd;
    const dv = new DataView(this.#pollfd.buffer);
    dv.setInt32(offsetOf('pollfd', 'fd'), fd, true);
    dv.setInt16(offsetOf('pollfd', 'events'), POLLIN, true);
  }

  /** eventfd2 with EFD_CLOEXEC (plus EFD_NONBLOCK / EFD_SEMAPHORE as asked). @throws KvmError */
  static create(options: EventFdOptions = {}): EventFd {
    let flags = EFD_CLOEXEC;
    if (options.nonBlocking) flags |= EFD_NONBLOCK;
    if (options.semaphore) flags |= EFD_SEMAPHORE;
    return new EventFd(check('eventfd', libc.eventfd(options.initial ?? 0, flags)));
  }

  /**
   * Reads and resets the counter (or takes 1 in semaphore mode). Blocks while it is zero unless
   * non-blocking; a signal does not end the wait (it is retried) — write the eventfd to wake it.
   * @throws KvmError (EAGAIN when non-blocking and zero, EBADF when closed).
   */
  read(): bigint {
    for (;;) {
      if (libc.read(this.fd, this.#buffer, 8) === 8) return this.#dv.getBigUint64(0, true);
      const errno = libc.errno();
      if (errno !== libc.EINTR) throw new KvmError('read eventfd', errno);
    }
  }

  /** Reads the counter if it is non-zero, else returns 0n at once (never blocks). */
  tryRead(): bigint {
    const ready = libc.poll(this.#pollfd, 1, 0);
    if (ready < 0) {
      const errno = libc.errno();
      if (errno === libc.EINTR) return 0n;
      throw new KvmError('poll eventfd', errno);
    }
    if (ready === 0) return 0n;
    if (libc.read(this.fd, this.#buffer, 8) === 8) return this.#dv.getBigUint64(0, true);
    const errno = libc.errno();
    if (errno === libc.EAGAIN || errno === libc.EINTR) return 0n;
    throw new KvmError('read eventfd', errno);
  }

  /** Adds `n` (default 1) to the counter, waking readers. @throws KvmError (EAGAIN on overflow). */
  write(n: number | bigint = 1): void {
    this.#dv.setBigUint64(0, BigInt(n), true);
    if (libc.write(this.fd, this.#buffer, 8) !== 8) throw new KvmError('write eventfd', libc.errno());
  }

  /** Closes the fd. */
  close(): void {
    closeFd(this.fd);
  }
}

/**
 * Waits on several fds at once (poll(2), POLLIN). Build once per set of fds; wait() allocates
 * nothing. Typical use: a device worker waiting on its queues' ioeventfds plus a stop eventfd.
 */
export class Poller {
  /** The watched fds, in order. */
  readonly fds: readonly number[];
  #buffer: Uint8Array;
  #dv: DataView;

  constructor(fds: readonly number[]) {
    this.fds = [...fds];
    this.#buffer = new Uint8Array(LAYOUTS.pollfd.size * fds.length);
    this.#dv = new DataView(this.#buffer.buffer);
    fds.forEach((fd, i) => {
      this.#dv.setInt32(i * LAYOUTS.pollfd.size + offsetOf('pollfd', 'fd'), fd, true);
      this.#dv.setInt16(i * LAYOUTS.pollfd.size + offsetOf('pollfd', 'events'), POLLIN, true);
    });
  }

  /**
   * Waits until at least one fd is readable or `timeoutMs` passes (-1: forever). Returns the
   * number of readable fds (0 on timeout or when a signal interrupted the wait); test each
   * with ready(i).
   * @throws KvmError for poll failures other than EINTR.
   */
  wait(timeoutMs: number): number {
    const count = libc.poll(this.#buffer, this.fds.length, Math.trunc(timeoutMs));
    if (count >= 0) return count;
    const errno = libc.errno();
    if (errno === libc.EINTR) return 0;
    throw new KvmError('poll', errno);
  }

  /** Whether fd number `index` (into `fds`) was readable (or hung up / errored) at the last wait(). */
  ready(index: number): boolean {
    return this.#dv.getInt16(index * LAYOUTS.pollfd.size + offsetOf('pollfd', 'revents'), true) !== 0;
  }
}

/** One-shot poll: the subset of `fds` readable within `timeoutMs` (-1: forever). */
export function poll(fds: readonly number[], timeoutMs: number): number[] {
  const poller = new Poller(fds);
  poller.wait(timeoutMs);
  return fds.filter((_, i) => poller.ready(i));
}
