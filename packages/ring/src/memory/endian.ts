/**
 * Host byte order, checked once when the module loads. Every VIRTIO 1.x structure is
 * little-endian; typed-array views (used with Atomics for shared ring fields) follow the host
 * order, so ring code swaps bytes only when this is false.
 */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Swaps the two bytes of a u16. */
export function bswap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** Converts between a little-endian u16 and the host order (a no-op on little-endian hosts). */
export function le16(v: number): number {
  return HOST_LITTLE_ENDIAN ? v : bswap16(v);
}

/** Converts between a little-endian u32 and the host order (a no-op on little-endian hosts). */
export function le32(v: number): number {
  return HOST_LITTLE_ENDIAN
    ? v
    : (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
