/** ACPI system description table helpers (ACPI 6.5 section 5.2). */
export const OEM_ID = 'VIRTTS';
export const OEM_TABLE_ID = 'VIRTIOTS';
export const CREATOR_ID = 'VTTS';
export const SDT_HEADER_SIZE = 36;

/** Sum of all bytes modulo 256 (a correct table sums to 0). */
export function byteSum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Writes an ASCII string into `bytes` at `at`, padded with spaces to `width`. */
export function putAscii(bytes: Uint8Array, at: number, text: string, width: number): void {
  for (let i = 0; i < width; i++) bytes[at + i] = i < text.length ? text.charCodeAt(i) : 0x20;
}

/** Writes a 64-bit unsigned value (a JS number up to 2^53) little-endian. */
export function putU64(dv: DataView, at: number, value: number): void {
  dv.setUint32(at, value >>> 0, true);
  dv.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
}

/**
 * A complete table: the 36-byte header (signature, length, revision, checksum, OEM fields,
 * creator) followed by `body`, with the checksum byte (offset 9) set so all bytes sum to 0.
 */
export function sdt(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const table = new Uint8Array(SDT_HEADER_SIZE + body.length);
  const dv = new DataView(table.buffer);
  putAscii(table, 0, signature, 4);
  dv.setUint32(4, table.length, true);
  table[8] = revision;
  putAscii(table, 10, OEM_ID, 6);
  putAscii(table, 16, OEM_TABLE_ID, 8);
  dv.setUint32(24, 1, true);
  putAscii(table, 28, CREATOR_ID, 4);
  dv.setUint32(32, 1, true);
  table.set(body, SDT_HEADER_SIZE);
  table[9] = (256 - byteSum(table)) & 0xff;
  return table;
}

/** A Generic Address Structure (12 bytes): address space, bit width, offset, access size, address. */
export function gas(dv: DataView, at: number, spaceId: number, bitWidth: number, accessSize: number, address: number): void {
  dv.setUint8(at, spaceId);
  dv.setUint8(at + 1, bitWidth);
  dv.setUint8(at + 2, 0);
  dv.setUint8(at + 3, accessSize);
  putU64(dv, at + 4, address);
}
export const GAS_SYSTEM_IO = 1;
export const GAS_ACCESS_BYTE = 1;
