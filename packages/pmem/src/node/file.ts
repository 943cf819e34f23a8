/**
 * Persistent memory backed by a file (Node only): the file's bytes are held in memory for the
 * VMM to map into the guest (e.g. as a region of a RegionGuestMemory); a flush writes them back
 * and fdatasyncs, so flushed writes survive the process. Each flush writes the whole image: for
 * large images prefer a {@link CallbackPmemBackend} over a real shared mapping (msync).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { PmemBackend } from '../backends/backend.js';

export interface FilePmemBackendOptions {
  /** Size in bytes to create or extend the file to; default the file's size (which must be > 0). */
  readonly size?: number;
}

export class FilePmemBackend implements PmemBackend {
  /** The guest-visible bytes. */
  readonly bytes: Uint8Array;
  readonly #file: FileHandle;
  /** Serializes flushes so that two never interleave their writes. */
  #last: Promise<void> = Promise.resolve();

  private constructor(file: FileHandle, bytes: Uint8Array) {
    this.#file = file;
    this.bytes = bytes;
  }

  /**
   * Opens (creating if missing) the file at `path` and reads it in.
   * @throws RangeError for a zero or bad size; Node file system errors
   */
  static async open(path: string, opts: FilePmemBackendOptions = {}): Promise<FilePmemBackend> {
    const file = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      const size = opts.size ?? (await file.stat()).size;
      if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`pmem: file size ${size}`);
      if ((await file.stat()).size < size) await file.truncate(size);
      const bytes = new Uint8Array(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await file.read(bytes, got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return new FilePmemBackend(file, bytes);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Writes the image to the file and fdatasyncs it; rejects on an I/O error. */
  flush(): Promise<void> {
    const run = this.#last.then(async () => {
      let done = 0;
      while (done < this.bytes.length) {
        const { bytesWritten } = await this.#file.write(this.bytes, done, this.bytes.length - done, done);
        done += bytesWritten;
      }
      await this.#file.datasync();
    });
    this.#last = run.catch(() => undefined);
    return run;
  }

  /** Closes the file (after the pending flushes). */
  async close(): Promise<void> {
    await this.#last;
    await this.#file.close();
  }
}
