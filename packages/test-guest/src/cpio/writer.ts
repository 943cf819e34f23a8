// The "newc" (SVR4, no CRC) cpio format the Linux kernel unpacks as an initramfs:
// a 110-byte ASCII header per entry ("070701" + 13 eight-digit hex fields), the NUL-terminated
// name padded to 4 bytes, the data padded to 4 bytes, and a final "TRAILER!!!" entry.

/** File type bits of st_mode (octal), as the newc header stores them. */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

const encoder = new TextEncoder();

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`cpio: header field ${value} does not fit 32 bits`);
  }
  return value.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/**
 * Writes a newc cpio archive in memory. Entries appear in the order added; the caller adds
 * parent directories before their contents (the kernel does not create missing parents).
 * Timestamps are 0 and owners root, so equal inputs give byte-identical archives.
 */
export class CpioWriter {
  #chunks: Uint8Array[] = [];
  #ino = 1;
  #finished = false;

  /** Adds a directory; `path` is relative to the archive root, without a leading "/". */
  directory(path: string, mode = 0o755): this {
    return this.#entry(path, S_IFDIR | (mode & 0o7777), new Uint8Array(0), 2, 0, 0);
  }

  /** Adds a regular file with `data` as its content (mode: permission bits, e.g. 0o755). */
  file(path: string, data: Uint8Array | string, mode = 0o644): this {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    return this.#entry(path, S_IFREG | (mode & 0o7777), bytes, 1, 0, 0);
  }

  /** Adds a symbolic link at `path` pointing to `target` (stored as the link's data). */
  symlink(path: string, target: string): this {
    return this.#entry(path, S_IFLNK | 0o777, encoder.encode(target), 1, 0, 0);
  }

  /** Adds a character device node (e.g. /dev/console is major 5, minor 1). */
  charDevice(path: string, major: number, minor: number, mode = 0o600): this {
    return this.#entry(path, S_IFCHR | (mode & 0o7777), new Uint8Array(0), 1, major, minor);
  }

  /** Appends the trailer and returns the whole archive. The writer cannot be used afterwards. */
  finish(): Uint8Array {
    this.#entry('TRAILER!!!', 0, new Uint8Array(0), 1, 0, 0, true);
    this.#finished = true;
    const total = this.#chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.#chunks = [];
    return out;
  }

  #entry(path: string, mode: number, data: Uint8Array, nlink: number, rmajor: number, rminor: number, trailer = false): this {
    if (this.#finished) throw new Error('cpio: archive already finished');
    const name = trailer ? path : normalize(path);
    const nameBytes = encoder.encode(name);
    const ino = trailer ? 0 : this.#ino++;
    const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rmajor, rminor, nameBytes.length + 1, 0];
    const header = encoder.encode(`070701${fields.map(hex8).join('')}`);
    const headLen = header.length + nameBytes.length + 1;
    const head = new Uint8Array(headLen + pad4(headLen));
    head.set(header, 0);
    head.set(nameBytes, header.length);
    this.#chunks.push(head);
    if (data.length > 0) {
      this.#chunks.push(data);
      const p = pad4(data.length);
      if (p) this.#chunks.push(new Uint8Array(p));
    }
    return this;
  }
}

function normalize(path: string): string {
  const name = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (name === '' || name.split('/').some((part) => part === '' || part === '..')) {
    throw new Error(`cpio: invalid entry path ${JSON.stringify(path)}`);
  }
  return name;
}
