// The libc functions this package calls, bound once through koffi. Internal: not exported.
// ioctl is variadic in C; it is declared non-variadic, once per argument kind (koffi facts in
// /work/shared/notes/kvm-from-node.md). Buffers passed as `void *` are handed to C without copy.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

/** A buffer handed to C as a pointer to its first byte. */
export type CBuffer = Uint8Array | ArrayBuffer | null;

export const open = libc.func('int open(const char *path, int flags)') as (path: string, flags: number) => number;
export const close = libc.func('int close(int fd)') as (fd: number) => number;
export const ioctlValue = libc.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as (
  fd: number,
  request: number,
  arg: number,
) => number;
export const ioctlBuffer = libc.func('ioctl', 'int', ['int', 'unsigned long', 'void *']) as (
  fd: number,
  request: number,
  arg: CBuffer,
) => number;
export const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)') as (
  addr: null,
  length: number,
  prot: number,
  flags: number,
  fd: number,
  offset: number,
) => bigint;
export const munmap = libc.func('int munmap(void *addr, size_t length)') as (addr: bigint, length: number) => number;
export const memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)') as (
  name: string,
  flags: number,
) => number;
export const ftruncate = libc.func('int ftruncate(int fd, int64_t length)') as (fd: number, length: number) => number;
export const eventfd = libc.func('int eventfd(unsigned int initval, int flags)') as (initval: number, flags: number) => number;
export const read = libc.func('int64_t read(int fd, void *buf, size_t count)') as (fd: number, buf: CBuffer, count: number) => number;
export const write = libc.func('int64_t write(int fd, void *buf, size_t count)') as (
  fd: number,
  buf: CBuffer,
  count: number,
) => number;
export const poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)') as (
  fds: CBuffer,
  nfds: number,
  timeout: number,
) => number;
export const sigaction = libc.func('int sigaction(int signum, void *act, void *oldact)') as (
  signum: number,
  act: CBuffer,
  oldact: CBuffer,
) => number;
export const pthreadSelf = libc.func('void *pthread_self()') as () => bigint;
export const pthreadKill = libc.func('int pthread_kill(void *thread, int sig)') as (thread: bigint, sig: number) => number;
export const dlsym = libc.func('void *dlsym(void *handle, const char *symbol)') as (handle: null, symbol: string) => bigint | null;

/** errno of the calling thread, as left by the last libc call. */
export const errno = (): number => koffi.errno();

/** A zero-copy ArrayBuffer over `length` bytes of host memory at `address` (at most 4 GiB). */
export const view = (address: bigint, length: number): ArrayBuffer => koffi.view(address, length);

export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_NORESERVE = 0x4000;
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;
export const MFD_CLOEXEC = 1;
export const EINTR = 4;
export const EAGAIN = 11;
