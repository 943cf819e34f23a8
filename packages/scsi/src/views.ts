/** Copies between a byte array and a list of views (guest buffers as the device hands them out). */

/** Copies `src` into `views` from their start; @returns bytes copied (min of both lengths). */
export function scatterViews(views: readonly Uint8Array[], src: Uint8Array): number {
  let off = 0;
  for (let i = 0; i < views.length && off < src.length; i++) {
    const v = views[i];
    const n = Math.min(v.length, src.length - off);
    v.set(src.subarray(off, off + n));
    off += n;
  }
  return off;
}

/** Copies the first `dest.length` bytes of `views` into `dest`; @returns bytes copied. */
export function gatherViews(views: readonly Uint8Array[], dest: Uint8Array): number {
  let off = 0;
  for (let i = 0; i < views.length && off < dest.length; i++) {
    const v = views[i];
    const n = Math.min(v.length, dest.length - off);
    dest.set(v.subarray(0, n), off);
    off += n;
  }
  return off;
}

/** The first `len` bytes of `views` as views (no copy). */
export function sliceViews(views: readonly Uint8Array[], len: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < views.length && len > 0; i++) {
    const v = views[i];
    const n = Math.min(v.length, len);
    out.push(n === v.length ? v : v.subarray(0, n));
    len -= n;
  }
  return out;
}
