/**
 * fallocate(2) through koffi, for hole punching and zeroing ranges of a disk image without
 * writing data. koffi is an optional peer dependency: without it (or off Linux) the file
 * backend writes zeroes instead.
 */

/** FALLOC_FL_KEEP_SIZE: never change the file size. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
/** FALLOC_FL_PUNCH_HOLE: deallocate the range (reads then return zeroes). Needs KEEP_SIZE. */
export const FALLOC_FL_PUNCH_HOLE = 0x02;
/** FALLOC_FL_ZERO_RANGE: make the range read as zeroes, keeping it allocated. */
export const FALLOC_FL_ZERO_RANGE = 0x10;

/** fallocate(fd, mode, offset, len): 0, or the errno it failed with. */
export type Fallocate = (fd: number, mode: number, offset: number, len: number) => number;

/** Binds fallocate from libc, or returns undefined when koffi or libc.so.6 is unavailable. */
export async function loadFallocate(): Promise<Fallocate | undefined> {
  if (typeof process === 'undefined' || process.platform !== 'linux') return undefined;
  try {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    const fn = libc.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)') as (
      fd: number,
      mode: number,
      offset: number,
      len: number,
    ) => number;
    return (fd, mode, offset, len) => (fn(fd, mode, offset, len) === 0 ? 0 : koffi.errno() || -1);
  } catch {
    return undefined;
  }
}
