import type { GuestMemory, Segment } from '@virtio/ring';

/**
 * Copies `src` into the chain's device-writable segments starting `offset` bytes into them;
 * bytes beyond the segments' total length are not written.
 * @returns the number of bytes written
 */
export function writeSegments(m: GuestMemory, segs: readonly Segment[], offset: number, src: Uint8Array): number {
  let skip = offset;
  let done = 0;
  for (const seg of segs) {
    if (done === src.length) break;
    if (skip >= seg.len) {
      skip -= seg.len;
      continue;
    }
    const len = Math.min(seg.len - skip, src.length - done);
    m.write(seg.addr + skip, src.subarray(done, done + len));
    done += len;
    skip = 0;
  }
  return done;
}
