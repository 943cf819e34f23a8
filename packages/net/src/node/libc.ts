// The libc calls the TAP backend makes, bound once through koffi (the project's pattern: ioctl
// declared non-variadic, once per argument kind). Internal: not exported.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

export const open = libc.func('int open(const char *path, int flags)') as (path: string, flags: number) => number;
export const close = libc.func('int close(int fd)') as (fd: number) => number;
export const write = libc.func('int64_t write(int fd, void *buf, size_t count)') as (fd: number, buf: Uint8Array, count: number) => number;
export const ioctlValue = libc.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as (fd: number, request: number, arg: number) => number;
export const ioctlBuffer = libc.func('ioctl', 'int', ['int', 'unsigned long', 'void *']) as (fd: number, request: number, arg: Uint8Array) => number;
export const eventfd = libc.func('int eventfd(unsigned int initval, int flags)') as (initval: number, flags: number) => number;

/** errno of the calling thread, as left by the last libc call. */
export const errno = (): number => koffi.errno();

export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const EFD_CLOEXEC = 0o2000000;
export const EAGAIN = 11;
export const EINTR = 4;

// <linux/if_tun.h>
export const TUNSETIFF = 0x400454ca;
export const TUNSETOFFLOAD = 0x400454d0;
export const TUNSETVNETHDRSZ = 0x400454d8;
export const IFF_TAP = 0x0002;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
export const TUN_F_UFO = 0x10;
export const TUN_F_USO4 = 0x20;
export const TUN_F_USO6 = 0x40;
/** IFNAMSIZ: interface names are at most 15 bytes plus NUL. */
export const IFNAMSIZ = 16;
/** sizeof(struct ifreq) on x86-64 and arm64. */
export const IFREQ_SIZE = 40;
