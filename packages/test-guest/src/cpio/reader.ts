import { S_IFDIR, S_IFLNK, S_IFREG, S_IFCHR } from './writer.js';

/** One entry of a newc cpio archive as {@link readCpio} returns it. */
export interface CpioEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'char' | 'other';
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  /** File content, or the link target's bytes for a symlink. */
  readonly data: Uint8Array;
  readonly rdevMajor: number;
  readonly rdevMinor: number;
}

const decoder = new TextDecoder();

/**
 * Parses a newc ("070701") cpio archive up to its TRAILER!!! entry.
 * @throws Error on a bad magic, a truncated header, name or body, or a missing trailer.
 */
export function readCpio(archive: Uint8Array): CpioEntry[] {
  const entries: CpioEntry[] = [];
  let at = 0;
  for (;;) {
    if (at + 110 > archive.length) throw new Error(`cpio: truncated header at offset ${at}`);
    const head = decoder.decode(archive.subarray(at, at + 110));
    if (!head.startsWith('070701')) throw new Error(`cpio: bad magic at offset ${at}`);
    const field = (i: number): number => {
      const text = head.slice(6 + i * 8, 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new Error(`cpio: bad header field at offset ${at}`);
      return parseInt(text, 16);
    };
    const mode = field(1);
    const size = field(6);
    const rdevMajor = field(9);
    const rdevMinor = field(10);
    const nameSize = field(11);
    const nameEnd = at + 110 + nameSize;
    if (nameSize < 1 || nameEnd > archive.length) throw new Error(`cpio: truncated name at offset ${at}`);
    const name = decoder.decode(archive.subarray(at + 110, nameEnd - 1));
    const dataAt = nameEnd + ((4 - ((110 + nameSize) % 4)) % 4);
    if (name === 'TRAILER!!!') return entries;
    if (dataAt + size > archive.length) throw new Error(`cpio: truncated body of ${name}`);
    const fmt = mode & 0o170000;
    const type =
      fmt === S_IFREG ? 'file' : fmt === S_IFDIR ? 'directory' : fmt === S_IFLNK ? 'symlink' : fmt === S_IFCHR ? 'char' : 'other';
    entries.push({ name, type, mode: mode & 0o7777, data: archive.subarray(dataAt, dataAt + size), rdevMajor, rdevMinor });
    at = dataAt + size + ((4 - (size % 4)) % 4);
  }
}
