/**
 * A raw disk image file as a {@link BlockBackend} (Node only). The file is opened once;
 * reads and writes are positional readv/writev straight into and out of the guest memory
 * views the device passes (no intermediate copy); FLUSH is fdatasync; DISCARD and WRITE_ZEROES
 * with unmap punch holes (fallocate PUNCH_HOLE|KEEP_SIZE via koffi) where the file system
 * supports it, else zeroes are written.
 */
import * as fs from 'node:fs';
import type { BlockBackend } from '../backend.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE, loadFallocate, type Fallocate } from './fallocate.js';

export interface FileBackendOptions {
  /** Open the image read-only (O_RDONLY); the device then offers VIRTIO_BLK_F_RO. */
  readonly readOnly?: boolean;
  /** Device ID string for GET_ID (at most 20 ASCII bytes used). */
  readonly id?: string;
  /** Punch holes for discard / write zeroes with unmap (default true; needs koffi on Linux). */
  readonly punchHoles?: boolean;
}

/** Bytes of zeroes written per call when the file system cannot zero a range itself. */
const ZERO_CHUNK = 1 << 20;
let zeroes: Uint8Array | undefined;

/** An error from the file system, with the errno code in the message. */
function fileError(what: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
  return new Error(`blk: ${what} ${path}: ${code}`, { cause: err });
}

const readv = (fd: number, views: Uint8Array[], pos: number) =>
  new Promise<number>((resolve, reject) => fs.readv(fd, views, pos, (err, n) => (err ? reject(err) : resolve(n))));
const writev = (fd: number, views: Uint8Array[], pos: number) =>
  new Promise<number>((resolve, reject) => fs.writev(fd, views, pos, (err, n) => (err ? reject(err) : resolve(n))));

/** Drops the first `n` bytes of `views` (in place semantics on a copy of the list). */
function advance(views: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < views.length && n >= views[i].byteLength) n -= views[i++].byteLength;
  const rest = views.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0].subarray(n);
  return rest;
}

export class FileBackend implements BlockBackend {
  readonly path: string;
  readonly size: number;
  readonly readOnly: boolean;
  readonly id: string | undefined;
  readonly deallocates: boolean;
  readonly #fd: number;
  readonly #fallocate: Fallocate | undefined;
  #punch: boolean;
  #zeroRange: boolean;
  #closed = false;

  private constructor(path: string, fd: number, size: number, opts: FileBackendOptions, fallocate: Fallocate | undefined) {
    this.path = path;
    this.#fd = fd;
    this.size = size;
    this.readOnly = opts.readOnly ?? false;
    this.id = opts.id;
    this.#fallocate = opts.punchHoles === false ? undefined : fallocate;
    this.#punch = this.#fallocate !== undefined;
    this.#zeroRange = this.#fallocate !== undefined;
    this.deallocates = this.#punch;
  }

  /**
   * Opens a raw image (read-write unless `readOnly`).
   * @throws Error "blk: cannot open disk image <path>: <ENOENT|EACCES|...>" when the file is
   * missing, unreadable (or not writable in read-write mode), or not a regular file.
   */
  static async open(path: string, opts: FileBackendOptions = {}): Promise<FileBackend> {
    let fd: number;
    try {
      fd = await new Promise<number>((resolve, reject) =>
        fs.open(path, opts.readOnly ? 'r' : 'r+', (err, fd) => (err ? reject(err) : resolve(fd))),
      );
    } catch (err) {
      throw fileError('cannot open disk image', path, err);
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EINVAL (not a regular file)' });
      return new FileBackend(path, fd, st.size, opts, opts.readOnly ? undefined : await loadFallocate());
    } catch (err) {
      fs.closeSync(fd);
      throw fileError('cannot open disk image', path, err);
    }
  }

  async read(offset: number, views: readonly Uint8Array[]): Promise<void> {
    let rest = views.slice();
    let pos = offset;
    while (rest.length > 0) {
      const n = await readv(this.#fd, rest, pos);
      if (n === 0) {
        // The image shrank under us: what lies past its end reads as zeroes.
        for (const v of rest) v.fill(0);
        return;
      }
      pos += n;
      rest = advance(rest, n);
    }
  }

  async write(offset: number, views: readonly Uint8Array[]): Promise<void> {
    this.#writable();
    let rest = views.slice();
    let pos = offset;
    while (rest.length > 0) {
      const n = await writev(this.#fd, rest, pos);
      pos += n;
      rest = advance(rest, n);
    }
  }

  flush(): Promise<void> {
    if (this.readOnly) return Promise.resolve();
    return new Promise((resolve, reject) => fs.fdatasync(this.#fd, (err) => (err ? reject(err) : resolve())));
  }

  discard(offset: number, length: number): Promise<void> {
    return this.writeZeroes(offset, length, true);
  }

  async writeZeroes(offset: number, length: number, unmap: boolean): Promise<void> {
    this.#writable();
    if (length === 0) return;
    const fa = this.#fallocate;
    if (fa && unmap && this.#punch) {
      const err = fa(this.#fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
      if (err === 0) return;
      this.#punch = false; // EOPNOTSUPP and friends: the file system cannot; write zeroes from now on
    }
    if (fa && this.#zeroRange) {
      const err = fa(this.#fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length);
      if (err === 0) return;
      this.#zeroRange = false;
    }
    zeroes ??= new Uint8Array(ZERO_CHUNK);
    for (let done = 0; done < length; ) {
      const n = Math.min(ZERO_CHUNK, length - done);
      await this.write(offset + done, [zeroes.subarray(0, n)]);
      done += n;
    }
  }

  /** Closes the file (after the device's in-flight work settled). Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve, reject) => fs.close(this.#fd, (err) => (err ? reject(err) : resolve())));
  }

  #writable(): void {
    if (this.readOnly) throw new Error(`blk: disk image ${this.path} is open read-only`);
  }
}
